package bundlesource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

// groupCacheSize is how many distinct messages a Group remembers: the
// latest bundle of a few services, plus one superseded revision each.
const groupCacheSize = 8

// Group lets the Sources of one process share the work every one of them
// would otherwise repeat on the same message: a gateway or a test harness
// embedding many PDPs receives each bundle once per PDP. Sources of a
// Group
//
//   - decompress and parse an archive once (keyed by its exact bytes) and
//     check its Ed25519 signature once; each Source still checks that the
//     signer is trusted by its own trust store now, that the bundle is for
//     its service and newer than what it runs;
//   - compile at most a bounded number of bundles at the same time, so that
//     a burst of activations cannot starve the goroutines that receive and
//     verify the next messages (and, in-process, the NATS server itself).
//
// A Group is safe for concurrent use. Sources without a Group share nothing.
type Group struct {
	gate chan struct{}
	seed maphash.Seed

	mu      sync.Mutex
	entries map[groupKey][]*groupEntry
	order   []*groupEntry // insertion order, oldest first, for eviction
}

// groupKey finds the candidates for a message: a fast hash of its bytes
// and the size limit it was read under (a bundle read under a generous
// limit must not be handed to a Source with a strict one).
type groupKey struct {
	hash    uint64
	maxSize int64
}

// groupEntry is one message read once for every Source of the Group.
type groupEntry struct {
	key  groupKey
	data []byte // the exact bytes, compared on every hit

	once sync.Once
	b    *bundle.Bundle
	err  error

	// sigOK records that the manifest signature verified with the key the
	// manifest names. Key ids are derived from the public key, so the
	// result holds for every trust store that trusts that id.
	sigOK atomic.Bool
}

// NewGroup returns a Group letting at most maxActivations of its Sources
// compile a bundle at the same time (at least 1). One per process is the
// usual choice, with maxActivations at most the number of CPUs.
func NewGroup(maxActivations int) *Group {
	return &Group{
		gate:    make(chan struct{}, max(maxActivations, 1)),
		seed:    maphash.MakeSeed(),
		entries: make(map[groupKey][]*groupEntry),
	}
}

// WithGroup makes the Source share parsing, signature checks and the
// activation gate with the other Sources of g.
func WithGroup(g *Group) Option {
	return optionFunc(func(c *config) { c.group = g })
}

// read returns the parsed archive for data, parsing it on first use.
func (g *Group) read(data []byte, maxSize int64) (*groupEntry, error) {
	key := groupKey{hash: maphash.Bytes(g.seed, data), maxSize: maxSize}
	g.mu.Lock()
	var e *groupEntry
	for _, c := range g.entries[key] {
		if bytes.Equal(c.data, data) {
			e = c
			break
		}
	}
	if e == nil {
		e = &groupEntry{key: key, data: data}
		g.entries[key] = append(g.entries[key], e)
		g.order = append(g.order, e)
		if len(g.order) > groupCacheSize {
			g.evictLocked(g.order[0])
			g.order = g.order[1:]
		}
	}
	g.mu.Unlock()
	e.once.Do(func() {
		e.b, e.err = bundle.Read(bytes.NewReader(data), bundle.WithMaxSize(maxSize))
	})
	return e, e.err
}

// evictLocked forgets e.
func (g *Group) evictLocked(e *groupEntry) {
	list := g.entries[e.key]
	for i, c := range list {
		if c == e {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(g.entries, e.key)
	} else {
		g.entries[e.key] = list
	}
}

// verify applies bundle.Verify's rules to e's bundle for one Source,
// skipping the signature computation when it already succeeded for
// another Source.
func (e *groupEntry) verify(trust *bundle.TrustStore, service string, active uint64) error {
	if !e.sigOK.Load() {
		err := e.b.Verify(trust, bundle.WithService(service), bundle.WithActiveRevision(active))
		// Service and revision are checked after the signature, so these
		// refusals still prove the signature good.
		if err == nil || errors.Is(err, bundle.ErrService) || errors.Is(err, bundle.ErrStale) {
			e.sigOK.Store(true)
		}
		return err
	}
	m := e.b.Manifest()
	if _, err := trust.PublicKey(m.KeyID); err != nil {
		return err
	}
	if m.Service != service {
		return fmt.Errorf("%w: bundle is for service %q, not %q", bundle.ErrService, m.Service, service)
	}
	if m.Revision <= active {
		return fmt.Errorf("%w: %s revision %d is not newer than active revision %d", bundle.ErrStale, m.Service, m.Revision, active)
	}
	return nil
}

// acquire waits for an activation slot; release gives it back.
func (g *Group) acquire(ctx context.Context) error {
	select {
	case g.gate <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *Group) release() { <-g.gate }
