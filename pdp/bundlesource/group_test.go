package bundlesource_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
)

// TestGroupSharesVerificationButNotTrust runs several Sources of one Group
// on the same messages: a signature checked once for one Source must not
// let a bundle into a Source whose own trust store does not trust the
// signer, and every Source still applies its own revision order.
func TestGroupSharesVerificationButNotTrust(t *testing.T) {
	ts := startServer(t)
	f := newFixture(t, ts)
	f.publish(bundlesource.KindBundle, f.signed(1, "P"))
	group := bundlesource.NewGroup(1)

	var srcs []*bundlesource.Source
	var engines []*pdp.Engine
	for range 3 {
		e := pdp.New()
		engines = append(engines, e)
		srcs = append(srcs, f.source(connect(t, ts.url()), e, bundlesource.WithGroup(group)))
	}
	f.publish(bundlesource.KindBundle, f.signed(2, "D"))
	for i, src := range srcs {
		waitRevision(t, src, 2)
		if eff, rev := decide(t, engines[i]); eff != pdp.EffectDeny || rev != 2 {
			t.Fatalf("PDP %d decides %s at revision %d, want Deny at 2", i, eff, rev)
		}
	}

	// A Source of the same Group that trusts another key only must refuse
	// the bundle the others accepted, from the same bytes.
	other := mustKey(t)
	otherTrust, err := bundle.NewTrustStore([]bundle.PublicKey{other.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = bundlesource.New(ctx, connect(t, ts.url()), pdp.New(), bundlesource.WithService(f.service),
		bundlesource.WithTrustStore(otherTrust), bundlesource.WithGroup(group))
	if !errors.Is(err, bundle.ErrUnknownKey) {
		t.Fatalf("New with an untrusting store = %v, want a refusal wrapping ErrUnknownKey", err)
	}

	// Replaying revision 1 (already parsed and verified by the Group) is
	// stale for every Source; a new one clears the error.
	f.publish(bundlesource.KindBundle, f.signed(1, "P"))
	for _, src := range srcs {
		waitError(t, src, bundle.ErrStale)
	}
	f.publish(bundlesource.KindBundle, f.signed(3, "P"))
	for i, src := range srcs {
		waitRevision(t, src, 3)
		if err := src.LastError(); err != nil {
			t.Fatalf("PDP %d: LastError = %v after a good bundle", i, err)
		}
	}
}
