package publish_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pdp/bundle"
)

// TestAnnounceThenSwitch checks the two steps of a rotation: after
// Announce bundles are still signed with the old key, SwitchKey refuses a
// key no key set announced, and with WithKeyFile the switch writes the new
// key where a restarted PAP loads it, keeping the old one beside it.
func TestAnnounceThenSwitch(t *testing.T) {
	e := newEnv(t)
	keyFile := filepath.Join(t.TempDir(), "bundle-signing.pem")
	if err := bundle.WritePrivateKeyFile(keyFile, e.key); err != nil {
		t.Fatal(err)
	}
	p := e.publisher(publish.WithKeyFile(keyFile))
	ctx := context.Background()

	stranger, _ := bundle.GenerateSigningKey()
	if err := p.SwitchKey(stranger); !errors.Is(err, publish.ErrNotAnnounced) {
		t.Fatalf("SwitchKey to an unannounced key = %v, want ErrNotAnnounced", err)
	}
	next, _ := bundle.GenerateSigningKey()
	ks, err := p.Announce(ctx, next, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := bundle.GenerateSigningKey()
	if _, err := p.Announce(ctx, again, time.Hour); !errors.Is(err, publish.ErrRotationInProgress) {
		t.Fatalf("second Announce before the switch = %v, want ErrRotationInProgress", err)
	}
	if p.KeyID() != e.key.KeyID() {
		t.Fatalf("after Announce the publisher signs with %s, want the old key until the switch", p.KeyID())
	}
	st, err := p.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Signing.KeyID() != e.key.KeyID() || st.KeySet == nil || st.KeySet.KeySet().Version != ks.KeySet().Version {
		t.Fatalf("SigningKeys = %+v", st)
	}
	if err := p.SwitchKey(next); err != nil {
		t.Fatal(err)
	}
	if p.KeyID() != next.KeyID() {
		t.Fatalf("publisher signs with %s after the switch, want %s", p.KeyID(), next.KeyID())
	}
	loaded, err := bundle.LoadSigningKey(keyFile)
	if err != nil || loaded.KeyID() != next.KeyID() {
		t.Fatalf("key file holds %v (%v), want the new key", loaded, err)
	}
	kept, err := bundle.LoadSigningKey(keyFile + "." + e.key.KeyID())
	if err != nil || kept.KeyID() != e.key.KeyID() {
		t.Fatalf("old key not kept: %v", err)
	}

	// A key set published by someone else since: the next announcement
	// continues after it instead of failing as stale.
	other := e.publisherWith(next)
	third, _ := bundle.GenerateSigningKey()
	if _, err := other.Announce(ctx, third, time.Hour); err != nil {
		t.Fatal(err)
	}
	fourth, _ := bundle.GenerateSigningKey()
	ks4, err := p.Announce(ctx, fourth, time.Hour)
	if err != nil {
		t.Fatalf("Announce after another publisher's key set: %v", err)
	}
	if ks4.KeySet().Version != ks.KeySet().Version+2 {
		t.Fatalf("version %d, want %d", ks4.KeySet().Version, ks.KeySet().Version+2)
	}
}
