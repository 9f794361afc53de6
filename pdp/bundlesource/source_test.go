package bundlesource_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
)

func TestNewWaitsForTheLastBundleAndFollowsNewOnes(t *testing.T) {
	ts := startServer(t)
	f := newFixture(t, ts)
	f.publish(bundlesource.KindBundle, f.signed(1, "D"))
	f.publish(bundlesource.KindBundle, f.signed(2, "P"))

	engine := pdp.New()
	reg := prometheus.NewRegistry()
	src := f.source(connect(t, ts.url()), engine, bundlesource.WithRegisterer(reg), bundlesource.WithInstance("pdp-1"))
	// The consumer starts from the subject's last message: revision 2 is
	// the first one applied, revision 1 never is.
	if got := src.Revision(); got != 2 {
		t.Fatalf("after New, revision = %d, want 2", got)
	}
	if eff, rev := decide(t, engine); eff != pdp.EffectPermit || rev != 2 {
		t.Fatalf("decision = %s at revision %d, want Permit at 2", eff, rev)
	}

	f.publish(bundlesource.KindBundle, f.signed(3, "D"))
	waitRevision(t, src, 3)
	if eff, rev := decide(t, engine); eff != pdp.EffectDeny || rev != 3 {
		t.Fatalf("decision = %s at revision %d, want Deny at 3", eff, rev)
	}
	if err := src.LastError(); err != nil {
		t.Fatalf("LastError = %v", err)
	}
	if got := gauge(t, reg, "verdict_bundlesource_active_revision"); got != 3 {
		t.Errorf("active_revision metric = %v, want 3", got)
	}
	if got := counter(t, reg, "verdict_bundlesource_bundles_total", "applied"); got != 2 {
		t.Errorf("bundles_total{result=applied} = %v, want 2", got)
	}
}

// gauge returns the value of the first sample of the metric family name.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// counter sums the samples of the counter family name with the label
// result=value.
func counter(t *testing.T, reg *prometheus.Registry, name, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func TestRefusedBundlesKeepTheActiveOneAndAreReported(t *testing.T) {
	ts := startServer(t)
	f := newFixture(t, ts)
	f.publish(bundlesource.KindBundle, f.signed(1, "P"))
	engine := pdp.New()
	src := f.source(connect(t, ts.url()), engine, bundlesource.WithHeartbeatInterval(50*time.Millisecond))
	f.publish(bundlesource.KindBundle, f.signed(2, "P"))
	waitRevision(t, src, 2)
	beats := heartbeats(t, f.nc, f.subjects, f.service)

	other := mustKey(t)
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"unsigned", archive(t, unsigned(t, f.service, 3, "D")), bundle.ErrUnsigned},
		{"wrong key", archive(t, sign(t, unsigned(t, f.service, 3, "D"), other)), bundle.ErrUnknownKey},
		{"manifest changed after signing", retar(t, f.signed(3, "D"), func(name string, body []byte) []byte {
			if name != "manifest.json" {
				return body
			}
			var m bundle.Manifest
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			m.Revision = 30
			out, _ := json.Marshal(m)
			return out
		}), bundle.ErrSignature},
		{"module changed after signing", retar(t, f.signed(3, "D"), func(name string, body []byte) []byte {
			if strings.HasPrefix(name, "rego/") {
				return []byte(module("P"))
			}
			return body
		}), bundle.ErrDigest},
		{"replayed old revision", f.signed(1, "D"), bundle.ErrStale},
		{"another service", archive(t, sign(t, unsigned(t, "billing", 3, "D"), f.key)), bundle.ErrService},
		{"not a bundle", []byte("hello"), bundle.ErrFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.publish(bundlesource.KindBundle, tc.data)
			waitError(t, src, tc.want)
			if eff, rev := decide(t, engine); eff != pdp.EffectPermit || rev != 2 {
				t.Fatalf("decision = %s at revision %d, want Permit at 2 (the last good one)", eff, rev)
			}
			// The heartbeat carries the refusal.
			deadline := time.After(5 * time.Second)
			for {
				select {
				case hb := <-beats:
					if hb.Revision == 2 && hb.LastError != "" && hb.LastError == src.LastError().Error() {
						return
					}
				case <-deadline:
					t.Fatalf("no heartbeat reported %v", src.LastError())
				}
			}
		})
	}

	// A good bundle clears the error.
	f.publish(bundlesource.KindBundle, f.signed(3, "D"))
	waitRevision(t, src, 3)
	if err := src.LastError(); err != nil {
		t.Fatalf("LastError after a good bundle = %v", err)
	}
}

func TestRedeliveryOfTheActiveBundleIsNotAnError(t *testing.T) {
	ts := startServer(t)
	f := newFixture(t, ts)
	data := f.signed(1, "P")
	f.publish(bundlesource.KindBundle, data)
	src := f.source(connect(t, ts.url()), pdp.New())
	f.publish(bundlesource.KindBundle, data)
	f.publish(bundlesource.KindBundle, f.signed(2, "P"))
	waitRevision(t, src, 2)
	if err := src.LastError(); err != nil {
		t.Fatalf("LastError = %v, want nil for a redelivered active bundle", err)
	}
}

func TestLastKnownGoodWhenNATSIsUnreachable(t *testing.T) {
	ts := startServer(t)
	f := newFixture(t, ts)
	cache := t.TempDir()
	f.publish(bundlesource.KindBundle, f.signed(4, "P"))
	src := f.source(connect(t, ts.url()), pdp.New(), bundlesource.WithCacheDir(cache))
	src.Close()
	src.Close() // idempotent
	if _, err := os.Stat(filepath.Join(cache, bundle.FileName(f.service))); err != nil {
		t.Fatalf("last-known-good not written: %v", err)
	}

	ts.stop()
	engine := pdp.New()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	src2, err := bundlesource.New(ctx, connect(t, ts.url()), engine,
		bundlesource.WithService(f.service), bundlesource.WithTrustStore(f.trust), bundlesource.WithCacheDir(cache))
	if err != nil {
		t.Fatalf("New with NATS down: %v", err)
	}
	defer src2.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("New took %s with a last-known-good bundle", took)
	}
	if eff, rev := decide(t, engine); eff != pdp.EffectPermit || rev != 4 {
		t.Fatalf("decision = %s at revision %d, want Permit at 4 from disk", eff, rev)
	}

	// NATS comes back with a newer revision: the source catches up.
	ts.start()
	f2 := newFixtureOn(t, ts, f)
	f2.publish(bundlesource.KindBundle, f2.signed(5, "D"))
	waitRevision(t, src2, 5)
}

// newFixtureOn reconnects a fixture after a server restart; the stream
// survived on disk.
func newFixtureOn(t *testing.T, ts *testServer, f *fixture) *fixture {
	t.Helper()
	g := *f
	g.t = t
	g.nc = connect(t, ts.url())
	js, err := jetstream.New(g.nc)
	if err != nil {
		t.Fatal(err)
	}
	g.js = js
	return &g
}

func TestLastKnownGoodIsVerified(t *testing.T) {
	ts := startServer(t)
	f := newFixture(t, ts)
	cache := t.TempDir()
	if err := os.WriteFile(filepath.Join(cache, bundle.FileName(f.service)), archive(t, unsigned(t, f.service, 9, "P")), 0o600); err != nil {
		t.Fatal(err)
	}
	f.publish(bundlesource.KindBundle, f.signed(1, "P"))
	src := f.source(connect(t, ts.url()), pdp.New(), bundlesource.WithCacheDir(cache))
	if got := src.Revision(); got != 1 {
		t.Fatalf("revision = %d, want 1 from NATS (the cached bundle is unsigned)", got)
	}
}

func TestNewFailsWhenNoBundleArrives(t *testing.T) {
	ts := startServer(t)
	f := newFixture(t, ts)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := bundlesource.New(ctx, connect(t, ts.url()), pdp.New(),
		bundlesource.WithService(f.service), bundlesource.WithTrustStore(f.trust))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("New = %v, want DeadlineExceeded", err)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	ts := startServer(t)
	nc := connect(t, ts.url())
	trust, _ := bundle.NewTrustStore([]bundle.PublicKey{mustKey(t).PublicKey()})
	ctx := context.Background()
	for name, opts := range map[string][]bundlesource.Option{
		"no trust":     {bundlesource.WithService("orders")},
		"no service":   {bundlesource.WithTrustStore(trust)},
		"bad service":  {bundlesource.WithService("Orders"), bundlesource.WithTrustStore(trust)},
		"bad instance": {bundlesource.WithService("orders"), bundlesource.WithTrustStore(trust), bundlesource.WithInstance("a.b")},
		"bad prefix":   {bundlesource.WithService("orders"), bundlesource.WithTrustStore(trust), bundlesource.WithSubjectPrefix("a.*")},
		"bad interval": {bundlesource.WithService("orders"), bundlesource.WithTrustStore(trust), bundlesource.WithHeartbeatInterval(0)},
	} {
		if _, err := bundlesource.New(ctx, nc, pdp.New(), opts...); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestPointerToObjectStore(t *testing.T) {
	ts := startServer(t)
	f := newFixture(t, ts)
	ctx := context.Background()
	obs, err := f.js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "bundles"})
	if err != nil {
		t.Fatal(err)
	}
	put := func(rev uint64, data []byte, digest string) []byte {
		name := "orders/" + string(rune('0'+rev))
		if _, err := obs.PutBytes(ctx, name, data); err != nil {
			t.Fatal(err)
		}
		p, _ := json.Marshal(bundlesource.Pointer{Service: f.service, Revision: rev, Digest: digest, Bucket: "bundles", Object: name, Size: int64(len(data))})
		return p
	}
	b1 := sign(t, unsigned(t, f.service, 1, "P"), f.key)
	f.publish(bundlesource.KindPointer, put(1, archive(t, b1), b1.Digest()))
	src := f.source(connect(t, ts.url()), pdp.New())
	if got := src.Revision(); got != 1 {
		t.Fatalf("revision = %d, want 1 through the pointer", got)
	}

	// A pointer whose object holds another revision is refused.
	b3 := sign(t, unsigned(t, f.service, 3, "D"), f.key)
	f.publish(bundlesource.KindPointer, put(2, archive(t, b3), b3.Digest()))
	waitError(t, src, bundle.ErrDigest)

	// A pointer to a missing object is refused without blocking later ones.
	p, _ := json.Marshal(bundlesource.Pointer{Service: f.service, Revision: 4, Digest: "sha256:00", Bucket: "bundles", Object: "missing"})
	f.publish(bundlesource.KindPointer, p)
	waitError(t, src, jetstream.ErrObjectNotFound)

	b5 := sign(t, unsigned(t, f.service, 5, "D"), f.key)
	f.publish(bundlesource.KindPointer, put(5, archive(t, b5), b5.Digest()))
	waitRevision(t, src, 5)
	if src.Digest() != b5.Digest() {
		t.Fatalf("digest = %s, want %s", src.Digest(), b5.Digest())
	}
}

func TestKeyRotationThroughSignedKeySet(t *testing.T) {
	ts := startServer(t)
	f := newFixture(t, ts)
	cache := t.TempDir()
	f.publish(bundlesource.KindBundle, f.signed(1, "P"))
	src := f.source(connect(t, ts.url()), pdp.New(), bundlesource.WithCacheDir(cache))

	next := mustKey(t)
	old := f.key.PublicKey()
	old.NotAfter = time.Now().Add(time.Hour)
	ks, err := bundle.SignKeySet(bundle.KeySet{Version: 1, Keys: []bundle.PublicKey{old, next.PublicKey()}}, f.key)
	if err != nil {
		t.Fatal(err)
	}
	// The bundle signed by the new key is published before the key set
	// naming it: the source must fetch the key set rather than refuse.
	f.publish(bundlesource.KindBundle, archive(t, sign(t, unsigned(t, f.service, 2, "D"), next)))
	f.publishKeySet(ks)
	waitRevision(t, src, 2)
	if err := src.LastError(); err != nil {
		t.Fatalf("LastError = %v", err)
	}

	// A key set signed by an untrusted key is refused and reported.
	rogue := mustKey(t)
	bad, _ := bundle.SignKeySet(bundle.KeySet{Version: 2, Keys: []bundle.PublicKey{rogue.PublicKey()}}, rogue)
	f.publishKeySet(bad)
	waitError(t, src, bundle.ErrUnknownKey)

	// After a restart without NATS, the cached key set still vouches for
	// the cached bundle signed by the new key.
	src.Close()
	ts.stop()
	fresh, _ := bundle.NewTrustStore([]bundle.PublicKey{f.key.PublicKey()})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	src2, err := bundlesource.New(ctx, connect(t, ts.url()), pdp.New(),
		bundlesource.WithService(f.service), bundlesource.WithTrustStore(fresh), bundlesource.WithCacheDir(cache))
	if err != nil {
		t.Fatalf("restart from cache: %v", err)
	}
	defer src2.Close()
	if got := src2.Revision(); got != 2 {
		t.Fatalf("revision from cache = %d, want 2", got)
	}
}

func TestSurvivesServerRestarts(t *testing.T) {
	ts := startServer(t)
	f := newFixture(t, ts)
	f.publish(bundlesource.KindBundle, f.signed(1, "P"))
	var mu sync.Mutex
	var applied []uint64
	src := f.source(connect(t, ts.url()), pdp.New(), bundlesource.WithObserver(bundlesource.ObserverFunc(func(m bundle.Manifest) {
		mu.Lock()
		applied = append(applied, m.Revision)
		mu.Unlock()
	})))
	rev := uint64(1)
	for i := 0; i < 3; i++ {
		ts.stop()
		ts.start()
		g := newFixtureOn(t, ts, f)
		// Two revisions while the source may still be reconnecting: it
		// must apply both in order, or at least end on the last.
		rev++
		g.publish(bundlesource.KindBundle, g.signed(rev, "P"))
		rev++
		g.publish(bundlesource.KindBundle, g.signed(rev, "D"))
		waitRevision(t, src, rev)
	}
	if err := src.LastError(); err != nil {
		t.Fatalf("LastError = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	// Every revision exactly once, in order: the consumer resumes after
	// the last message it delivered across restarts.
	for i, r := range applied {
		if r != uint64(i+1) {
			t.Fatalf("applied revisions %v, want 1..%d in order", applied, rev)
		}
	}
	if len(applied) != int(rev) {
		t.Fatalf("applied revisions %v, want 1..%d", applied, rev)
	}
}

func TestHeartbeats(t *testing.T) {
	ts := startServer(t)
	f := newFixture(t, ts)
	beats := heartbeats(t, f.nc, f.subjects, f.service)
	f.publish(bundlesource.KindBundle, f.signed(7, "P"))
	src := f.source(connect(t, ts.url()), pdp.New(), bundlesource.WithInstance("pdp-a"), bundlesource.WithHeartbeatInterval(20*time.Millisecond))
	want := src.Digest()
	n := 0
	deadline := time.After(5 * time.Second)
	for n < 3 {
		select {
		case hb := <-beats:
			if hb.Revision != 7 {
				continue
			}
			if hb.Service != "orders" || hb.Instance != "pdp-a" || hb.Digest != want || hb.LastError != "" || hb.Interval() != 20*time.Millisecond || hb.Time.IsZero() {
				t.Fatalf("heartbeat = %+v", hb)
			}
			n++
		case <-deadline:
			t.Fatalf("got %d heartbeats, want 3", n)
		}
	}
	src.Close()
	deadline = time.After(5 * time.Second)
	for {
		select {
		case hb := <-beats:
			if hb.Stopping {
				return
			}
		case <-deadline:
			t.Fatal("no stopping heartbeat after Close")
		}
	}
}
