package sdk_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/sdk"
)

const (
	permitReads = `
policy: urn:verdict:test:swap
combining: deny-unless-permit
rules:
  - id: read
    effect: Permit
    target:
      - {match: string-equal, value: read, attr: {category: action, id: name}}
`
	denyAll = `
policy: urn:verdict:test:swap
combining: permit-unless-deny
rules:
  - id: everything
    effect: Deny
`
)

// withRevision returns p as another revision: same modules, so a swap
// costs what a bundle update costs.
func withRevision(p *pdp.Policy, rev uint64) *pdp.Policy {
	c := *p
	c.Revision = rev
	return &c
}

// TestHotSwapUnderConcurrentDecisions swaps policies while goroutines
// decide (run with -race): every decision must be the one its revision
// gives (odd revisions permit reads, even ones deny everything), and a
// goroutine never sees an older revision after a newer one.
func TestHotSwapUnderConcurrentDecisions(t *testing.T) {
	permit := compileYAML(t, permitReads, "swap", 1)
	deny := compileYAML(t, denyAll, "swap", 2)
	src := newTestSource(nil, permit)
	p := mustNew(t, sdk.WithBundleSource(src), sdk.WithDecisionLogger(discardLogger{}))

	const swaps = 30
	var (
		wg       sync.WaitGroup
		stop     atomic.Bool
		decided  atomic.Int64
		revsSeen sync.Map
	)
	for range 4 {
		wg.Go(func() {
			req := &pdp.Request{}
			req.Add(pdp.CategoryAction, "name", str("read"))
			var last uint64
			for !stop.Load() {
				d, err := p.Decide(t.Context(), req)
				if err != nil {
					t.Errorf("Decide: %v", err)
					return
				}
				want := pdp.EffectPermit
				if d.Revision%2 == 0 {
					want = pdp.EffectDeny
				}
				if d.Effect != want {
					t.Errorf("revision %d decided %s, want %s", d.Revision, d.Effect, want)
					return
				}
				if d.Revision < last {
					t.Errorf("revision went back from %d to %d", last, d.Revision)
					return
				}
				last = d.Revision
				revsSeen.Store(d.Revision, true)
				decided.Add(1)
			}
		})
	}
	for rev := uint64(2); rev <= swaps; rev++ {
		next := withRevision(permit, rev)
		if rev%2 == 0 {
			next = withRevision(deny, rev)
		}
		if err := src.swap(t.Context(), next); err != nil {
			t.Fatal(err)
		}
	}
	if err := src.swap(t.Context(), withRevision(permit, 1)); err == nil {
		t.Error("a stale revision was activated")
	}
	stop.Store(true)
	wg.Wait()
	if got := p.Policy().Revision; got != swaps {
		t.Errorf("active revision %d, want %d", got, swaps)
	}
	n := 0
	revsSeen.Range(func(any, any) bool { n++; return true })
	t.Logf("%d decisions over %d revisions", decided.Load(), n)
	if n < 2 {
		t.Errorf("decisions saw %d revisions: the swaps did not overlap them", n)
	}
}
