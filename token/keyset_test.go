package token

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// jwksServer serves a replaceable JWKS over TLS and counts requests.
type jwksServer struct {
	*httptest.Server
	doc    atomic.Pointer[[]byte]
	status atomic.Int32
	hits   atomic.Int64
}

func newJWKSServer(t *testing.T, doc []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(doc)
	s.status.Store(http.StatusOK)
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if code := int(s.status.Load()); code != http.StatusOK {
			http.Error(w, "unavailable", code)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Write(*s.doc.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(doc []byte) { s.doc.Store(&doc) }

// tlsConfig trusts only the test server's certificate.
func (s *jwksServer) tlsConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return &tls.Config{RootCAs: pool}
}

// testClock is a settable clock.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestKeySet(t *testing.T, f Fetcher, opts ...KeySetOption) *KeySet {
	t.Helper()
	ks, err := NewKeySet(context.Background(), f, append([]KeySetOption{WithLogger(quietLogger())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	return ks
}

func TestKeySetRotationOverTLS(t *testing.T) {
	k1 := newECTestKey(t, "k1", "ES256", elliptic.P256())
	k2 := newECTestKey(t, "k2", "ES256", elliptic.P256())
	srv := newJWKSServer(t, jwksJSON(t, k1.jwk))
	fetcher, err := NewHTTPFetcher(srv.URL+"/jwks", srv.tlsConfig())
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: t0}
	ks := newTestKeySet(t, fetcher, WithClock(clock.Now), WithMinRefreshInterval(time.Minute), WithRefreshInterval(time.Hour))
	v := newTestVerifier(t, ks)
	ctx := context.Background()

	tok1 := k1.sign(t, "ES256", baseClaims())
	if _, err := v.Verify(ctx, tok1); err != nil {
		t.Fatal(err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("%d fetches after the first verification, want 1", got)
	}

	// The issuer rotates to k2 and withdraws k1.
	srv.set(jwksJSON(t, k2.jwk))
	tok2 := k2.sign(t, "ES256", baseClaims())

	// Within the minimum interval an unknown kid does not fetch.
	_, err = v.Verify(ctx, tok2)
	if !errors.Is(err, ErrUnknownKey) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("rate-limited refresh: got %v, want ErrUnknownKey and ErrRateLimited", err)
	}
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("%d fetches, want 1 (rate-limited)", got)
	}

	// After it, the unknown kid triggers one fetch and verifies.
	clock.advance(time.Minute)
	if _, err := v.Verify(ctx, tok2); err != nil {
		t.Fatalf("after refresh: %v", err)
	}
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("%d fetches, want 2", got)
	}

	// k1 is gone: its token, although cached, is rejected now.
	if _, err := v.Verify(ctx, tok1); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("token of withdrawn key: got %v, want ErrUnknownKey", err)
	}

	// A burst of random kids, from many goroutines, after the interval:
	// exactly one fetch.
	clock.advance(time.Minute)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			bogus := k2.sign(t, "ES256", baseClaims(), "kid", fmt.Sprintf("random-%d", i))
			if _, err := v.Verify(ctx, bogus); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("random kid: got %v", err)
			}
		})
	}
	wg.Wait()
	if got := srv.hits.Load(); got != 3 {
		t.Fatalf("%d fetches after a burst of unknown kids, want 3", got)
	}
}

func TestKeySetKeepsLastGoodSet(t *testing.T) {
	k1 := newECTestKey(t, "k1", "ES256", elliptic.P256())
	srv := newJWKSServer(t, jwksJSON(t, k1.jwk))
	fetcher, err := NewHTTPFetcher(srv.URL, srv.tlsConfig())
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: t0}
	ks := newTestKeySet(t, fetcher, WithClock(clock.Now), WithMinRefreshInterval(time.Second))
	ctx := context.Background()

	failures := map[string]func(){
		"server error":     func() { srv.status.Store(http.StatusInternalServerError) },
		"not JSON":         func() { srv.status.Store(http.StatusOK); srv.set([]byte("<html>")) },
		"duplicate kid":    func() { srv.set(jwksJSON(t, k1.jwk, k1.jwk)) },
		"symmetric secret": func() { srv.set(jwksJSON(t, newHMACTestKey(t, "hs", "HS256", 32).jwk)) },
	}
	for name, breakIt := range failures {
		breakIt()
		clock.advance(time.Second)
		set, err := ks.Refresh(ctx)
		if !errors.Is(err, ErrFetch) {
			t.Errorf("%s: got %v, want ErrFetch", name, err)
		}
		if cur, _ := ks.Current(ctx); set != cur || len(cur.Keys()) != 1 || cur.Keys()[0].ID() != "k1" {
			t.Errorf("%s: previous set not kept", name)
		}
	}
}

func TestKeySetPeriodicRefresh(t *testing.T) {
	k1 := newECTestKey(t, "k1", "ES256", elliptic.P256())
	k2 := newECTestKey(t, "k2", "ES256", elliptic.P256())
	srv := newJWKSServer(t, jwksJSON(t, k1.jwk))
	fetcher, err := NewHTTPFetcher(srv.URL, srv.tlsConfig())
	if err != nil {
		t.Fatal(err)
	}
	// On-demand refreshes are effectively disabled: only the background
	// refresh can pick up k2.
	ks := newTestKeySet(t, fetcher, WithRefreshInterval(20*time.Millisecond), WithMinRefreshInterval(time.Hour))
	srv.set(jwksJSON(t, k2.jwk))
	deadline := time.Now().Add(10 * time.Second)
	for {
		set, _ := ks.Current(context.Background())
		if _, err := set.lookup("k2", true); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("background refresh never installed k2 (%d fetches)", srv.hits.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ks.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	after := srv.hits.Load()
	time.Sleep(100 * time.Millisecond)
	if srv.hits.Load() != after {
		t.Error("fetching continued after Close")
	}
	if _, err := ks.Refresh(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Refresh after Close: %v", err)
	}
	if set, _ := ks.Current(context.Background()); set == nil {
		t.Error("Current after Close returned no set")
	}
}

func TestKeySetFromFile(t *testing.T) {
	k1 := newHMACTestKey(t, "k1", "HS256", 32)
	k2 := newHMACTestKey(t, "k2", "HS256", 32)
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwksJSON(t, k1.jwk), 0o600); err != nil {
		t.Fatal(err)
	}
	// Symmetric keys need the explicit opt-in, even from a file.
	if _, err := NewKeySet(context.Background(), NewFileFetcher(path), WithLogger(quietLogger())); !errors.Is(err, ErrInvalidKeySet) {
		t.Fatalf("symmetric file without opt-in: %v", err)
	}
	clock := &testClock{now: t0}
	ks := newTestKeySet(t, NewFileFetcher(path), WithSymmetricKeys(), WithClock(clock.Now))
	v := newTestVerifier(t, ks)
	if err := os.WriteFile(path, jwksJSON(t, k2.jwk), 0o600); err != nil {
		t.Fatal(err)
	}
	clock.advance(DefaultMinRefreshInterval)
	if _, err := v.Verify(context.Background(), k2.sign(t, "HS256", baseClaims())); err != nil {
		t.Fatalf("rotated file: %v", err)
	}
	if _, err := NewKeySet(context.Background(), NewFileFetcher(filepath.Join(t.TempDir(), "missing.json")), WithLogger(quietLogger())); !errors.Is(err, ErrFetch) {
		t.Fatalf("missing file: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.json")
	if err := os.WriteFile(big, bytes.Repeat([]byte(" "), MaxKeySetSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileFetcher(big).Fetch(context.Background()); err == nil {
		t.Fatal("oversized file accepted")
	}
}

func TestNewKeySetConfig(t *testing.T) {
	f := NewFileFetcher("unused")
	for name, opts := range map[string][]KeySetOption{
		"zero interval":    {WithRefreshInterval(0)},
		"negative minimum": {WithMinRefreshInterval(-1)},
		"nil logger":       {WithLogger(nil)},
	} {
		if _, err := NewKeySet(context.Background(), f, opts...); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: got %v, want ErrConfig", name, err)
		}
	}
	if _, err := NewKeySet(context.Background(), nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil fetcher: %v", err)
	}
}
