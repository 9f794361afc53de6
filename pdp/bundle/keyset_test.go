package bundle_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

// signKeySet signs a key set version listing keys, or fails the test.
func signKeySet(t testing.TB, signer *bundle.SigningKey, version uint64, keys ...bundle.PublicKey) *bundle.SignedKeySet {
	t.Helper()
	s, err := bundle.SignKeySet(bundle.KeySet{Version: version, IssuedAt: created, Keys: keys}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// wire round-trips a signed key set through its published form.
func wire(t testing.TB, s *bundle.SignedKeySet) *bundle.SignedKeySet {
	t.Helper()
	data, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	out, err := bundle.ParseKeySet(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKeyRotation(t *testing.T) {
	a, b := newKey(t), newKey(t)
	trust := trustOf(t, a)
	byB := archive(t, build(t, contents("orders", 2), b))

	// Before the key set, B is a stranger.
	if trust.Trusted(b.KeyID()) {
		t.Fatal("B trusted before any key set")
	}
	_, err := bundle.Open(bytes.NewReader(byB), trust)
	wantErr(t, err, bundle.ErrUnknownKey)

	// A, trusted locally, vouches for A and B.
	if err := trust.Apply(wire(t, signKeySet(t, a, 1, a.PublicKey(), b.PublicKey()))); err != nil {
		t.Fatal(err)
	}
	if !trust.Trusted(b.KeyID()) || trust.Version() != 1 {
		t.Fatalf("after key set: B trusted %v, version %d", trust.Trusted(b.KeyID()), trust.Version())
	}
	if _, err := bundle.Open(bytes.NewReader(byB), trust, bundle.WithService("orders")); err != nil {
		t.Fatalf("bundle signed by B: %v", err)
	}
	// Bundles signed by A still pass during the overlap.
	if _, err := bundle.Open(bytes.NewReader(archive(t, build(t, contents("orders", 3), a))), trust); err != nil {
		t.Fatalf("bundle signed by A: %v", err)
	}
	if got := trust.KeySet().KeySet(); got.Version != 1 || len(got.Keys) != 2 {
		t.Errorf("KeySet() = %+v", got)
	}
}

func TestKeySetChainAndRevocation(t *testing.T) {
	a, b, c := newKey(t), newKey(t), newKey(t)
	trust := trustOf(t, a)
	if err := trust.Apply(signKeySet(t, a, 1, a.PublicKey(), b.PublicKey())); err != nil {
		t.Fatal(err)
	}
	// B, learned from version 1, vouches for version 2: the chain holds.
	if err := trust.Apply(signKeySet(t, b, 2, b.PublicKey(), c.PublicKey())); err != nil {
		t.Fatal(err)
	}
	// C retires B.
	if err := trust.Apply(signKeySet(t, c, 3, c.PublicKey())); err != nil {
		t.Fatal(err)
	}
	if trust.Trusted(b.KeyID()) {
		t.Error("B still trusted after a key set dropped it")
	}
	_, err := bundle.Open(bytes.NewReader(archive(t, build(t, contents("orders", 2), b))), trust)
	wantErr(t, err, bundle.ErrUnknownKey)
	// A is local configuration: no key set can revoke it.
	if !trust.Trusted(a.KeyID()) || !trust.Trusted(c.KeyID()) {
		t.Error("A or C lost")
	}
	// B can no longer sign key sets either.
	wantErr(t, trust.Apply(signKeySet(t, b, 4, b.PublicKey())), bundle.ErrUnknownKey)
}

func TestKeySetRefusals(t *testing.T) {
	a, b, stranger := newKey(t), newKey(t), newKey(t)

	t.Run("untrusted signer", func(t *testing.T) {
		trust := trustOf(t, a)
		wantErr(t, trust.Apply(signKeySet(t, stranger, 1, stranger.PublicKey())), bundle.ErrUnknownKey)
		if trust.Trusted(stranger.KeyID()) || trust.Version() != 0 {
			t.Error("refused key set was applied")
		}
	})
	t.Run("self-signed newcomer", func(t *testing.T) {
		// A key set cannot vouch for its own signer.
		trust := trustOf(t, a)
		wantErr(t, trust.Apply(signKeySet(t, b, 1, a.PublicKey(), b.PublicKey())), bundle.ErrUnknownKey)
	})
	t.Run("older version", func(t *testing.T) {
		trust := trustOf(t, a)
		if err := trust.Apply(signKeySet(t, a, 5, a.PublicKey())); err != nil {
			t.Fatal(err)
		}
		wantErr(t, trust.Apply(signKeySet(t, a, 4, a.PublicKey(), b.PublicKey())), bundle.ErrStale)
		wantErr(t, trust.Apply(signKeySet(t, a, 5, a.PublicKey(), b.PublicKey())), bundle.ErrStale)
		if trust.Trusted(b.KeyID()) || trust.Version() != 5 {
			t.Error("stale key set was applied")
		}
	})
	t.Run("replayed old set", func(t *testing.T) {
		// Version 1 listed B; version 2 retired it. Replaying version 1
		// must not bring B back.
		trust := trustOf(t, a)
		v1 := signKeySet(t, a, 1, a.PublicKey(), b.PublicKey())
		if err := trust.Apply(v1); err != nil {
			t.Fatal(err)
		}
		if err := trust.Apply(signKeySet(t, a, 2, a.PublicKey())); err != nil {
			t.Fatal(err)
		}
		wantErr(t, trust.Apply(v1), bundle.ErrStale)
		if trust.Trusted(b.KeyID()) {
			t.Error("replay restored a retired key")
		}
	})
	t.Run("tampered payload", func(t *testing.T) {
		trust := trustOf(t, a)
		data, err := signKeySet(t, a, 1, a.PublicKey()).MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var env map[string]any
		if err := json.Unmarshal(data, &env); err != nil {
			t.Fatal(err)
		}
		forged, err := json.Marshal(bundle.KeySet{Version: 1, IssuedAt: created, Keys: []bundle.PublicKey{a.PublicKey(), stranger.PublicKey()}})
		if err != nil {
			t.Fatal(err)
		}
		env["payload"] = forged
		data, _ = json.Marshal(env)
		s, err := bundle.ParseKeySet(data)
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, trust.Apply(s), bundle.ErrSignature)
	})
	t.Run("unsigned", func(t *testing.T) {
		trust := trustOf(t, a)
		payload, _ := json.Marshal(bundle.KeySet{Version: 1, Keys: []bundle.PublicKey{stranger.PublicKey()}})
		data, _ := json.Marshal(map[string]any{"payload": payload})
		s, err := bundle.ParseKeySet(data)
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, trust.Apply(s), bundle.ErrUnsigned)
		wantErr(t, trust.Apply(&bundle.SignedKeySet{}), bundle.ErrUnsigned)
		wantErr(t, trust.Apply(nil), bundle.ErrFormat)
	})
	t.Run("bundle signature is not a key set signature", func(t *testing.T) {
		// Domain separation: a signature from a bundle cannot be moved.
		trust := trustOf(t, a)
		s := signKeySet(t, a, 1, a.PublicKey())
		data, _ := s.MarshalBinary()
		sig := entries(t, archive(t, build(t, contents("orders", 1), a)))[1].body
		var env map[string]any
		json.Unmarshal(data, &env)
		env["signature"] = sig
		data, _ = json.Marshal(env)
		moved, err := bundle.ParseKeySet(data)
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, trust.Apply(moved), bundle.ErrSignature)
	})
}

func TestParseKeySetRefusesMalformed(t *testing.T) {
	a := newKey(t)
	good, err := signKeySet(t, a, 1, a.PublicKey()).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]any
	if err := json.Unmarshal(good, &env); err != nil {
		t.Fatal(err)
	}
	withPayload := func(p string) []byte {
		e := map[string]any{"payload": []byte(p), "kid": env["kid"], "signature": env["signature"]}
		d, _ := json.Marshal(e)
		return d
	}
	pub := a.PublicKey()
	keyJSON, _ := json.Marshal(pub)
	tests := map[string][]byte{
		"not JSON":          []byte("{"),
		"unknown field":     append([]byte(`{"x":1,`), good[1:]...),
		"bad kid":           bytes.Replace(good, []byte(a.KeyID()), []byte("short"), 1),
		"short signature":   []byte(`{"payload":"e30=","kid":"` + a.KeyID() + `","signature":"AAAA"}`),
		"payload not JSON":  withPayload("{"),
		"version 0":         withPayload(`{"version":0,"keys":[]}`),
		"non-canonical":     withPayload(`{"version":1, "keys":[]}`),
		"duplicate key":     withPayload(`{"version":1,"keys":[` + string(keyJSON) + `,` + string(keyJSON) + `]}`),
		"unknown key field": withPayload(`{"version":1,"keys":[` + strings.Replace(string(keyJSON), `{`, `{"x":1,`, 1) + `]}`),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := bundle.ParseKeySet(data)
			wantErr(t, err, bundle.ErrFormat)
		})
	}
}

func TestSignKeySetRefusesInvalid(t *testing.T) {
	a := newKey(t)
	_, err := bundle.SignKeySet(bundle.KeySet{Version: 0, Keys: []bundle.PublicKey{a.PublicKey()}}, a)
	wantErr(t, err, bundle.ErrInvalid)
	_, err = bundle.SignKeySet(bundle.KeySet{Version: 1, Keys: []bundle.PublicKey{a.PublicKey(), a.PublicKey()}}, a)
	wantErr(t, err, bundle.ErrInvalid)
	_, err = bundle.SignKeySet(bundle.KeySet{Version: 1, Keys: []bundle.PublicKey{{Key: []byte("short")}}}, a)
	wantErr(t, err, bundle.ErrInvalid)
	_, err = bundle.SignKeySet(bundle.KeySet{Version: 1}, nil)
	wantErr(t, err, bundle.ErrInvalid)
}

func TestKeyWindows(t *testing.T) {
	a, b := newKey(t), newKey(t)
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }

	oldA := a.PublicKey()
	oldA.NotAfter = t0.Add(48 * time.Hour)
	trust, err := bundle.NewTrustStore([]bundle.PublicKey{oldA}, bundle.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	newB := b.PublicKey()
	newB.NotBefore = t0.Add(24 * time.Hour)
	if err := trust.Apply(signKeySet(t, a, 1, newB)); err != nil {
		t.Fatal(err)
	}
	byB := archive(t, build(t, contents("orders", 2), b))
	byA := archive(t, build(t, contents("orders", 1), a))

	steps := []struct {
		at             time.Duration
		trustA, trustB bool
	}{
		{0, true, false},              // B announced ahead of use
		{24 * time.Hour, true, true},  // overlap
		{48 * time.Hour, false, true}, // A retired
		{-time.Hour, true, false},     // clock before B's window
	}
	for _, s := range steps {
		set(t0.Add(s.at))
		if got := trust.Trusted(a.KeyID()); got != s.trustA {
			t.Errorf("at +%v: A trusted = %v", s.at, got)
		}
		if got := trust.Trusted(b.KeyID()); got != s.trustB {
			t.Errorf("at +%v: B trusted = %v", s.at, got)
		}
		_, errA := bundle.Open(bytes.NewReader(byA), trust)
		_, errB := bundle.Open(bytes.NewReader(byB), trust)
		if (errA == nil) != s.trustA || (errB == nil) != s.trustB {
			t.Errorf("at +%v: open A: %v, open B: %v", s.at, errA, errB)
		}
		if errA != nil {
			wantErr(t, errA, bundle.ErrUnknownKey)
		}
		if errB != nil {
			wantErr(t, errB, bundle.ErrUnknownKey)
		}
	}

	// An expired key cannot sign a key set.
	set(t0.Add(72 * time.Hour))
	wantErr(t, trust.Apply(signKeySet(t, a, 2, a.PublicKey())), bundle.ErrUnknownKey)
}

func TestKeySetFile(t *testing.T) {
	a, b := newKey(t), newKey(t)
	dir := t.TempDir()
	_, err := bundle.ReadKeySetFile(dir)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing key set: %v", err)
	}

	// A PDP learns B, persists the key set and its bundle, and restarts
	// with only A configured.
	first := trustOf(t, a)
	if err := first.Apply(signKeySet(t, a, 1, a.PublicKey(), b.PublicKey())); err != nil {
		t.Fatal(err)
	}
	if _, err := first.KeySet().WriteFile(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := build(t, contents("orders", 9), b).WriteFile(dir); err != nil {
		t.Fatal(err)
	}

	restarted := trustOf(t, a)
	_, err = bundle.ReadFile(dir, "orders", restarted)
	wantErr(t, err, bundle.ErrUnknownKey)
	s, err := bundle.ReadKeySetFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := restarted.Apply(s); err != nil {
		t.Fatal(err)
	}
	got, err := bundle.ReadFile(dir, "orders", restarted)
	if err != nil {
		t.Fatal(err)
	}
	if got.Manifest().Revision != 9 || s.SignerKeyID() != a.KeyID() {
		t.Errorf("revision %d, signer %s", got.Manifest().Revision, s.SignerKeyID())
	}
}

func TestTrustStoreConcurrent(t *testing.T) {
	root := newKey(t)
	keys := make([]*bundle.SigningKey, 8)
	archives := make([][]byte, len(keys))
	for i := range keys {
		keys[i] = newKey(t)
		archives[i] = archive(t, build(t, contents("orders", uint64(i+1)), keys[i]))
	}
	trust := trustOf(t, root)
	var wg sync.WaitGroup
	var accepted atomic.Int64
	stop := make(chan struct{})
	for g := range 4 {
		wg.Go(func() {
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				b, err := bundle.Open(bytes.NewReader(archives[i%len(archives)]), trust)
				switch {
				case err == nil:
					accepted.Add(1)
					_ = b.Modules()
				case !errors.Is(err, bundle.ErrUnknownKey):
					t.Errorf("unexpected error: %v", err)
					return
				}
				trust.Trusted(keys[i%len(keys)].KeyID())
				trust.Version()
			}
		})
	}
	// Rotate through the keys, each version trusting one of them.
	for v, k := range keys {
		if err := trust.Apply(signKeySet(t, root, uint64(v+1), k.PublicKey())); err != nil {
			t.Error(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if trust.Version() != uint64(len(keys)) {
		t.Errorf("version %d", trust.Version())
	}
	if accepted.Load() == 0 {
		t.Error("no bundle was ever accepted during the rotation")
	}
}
