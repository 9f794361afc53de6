package token

import (
	"context"
	"crypto/elliptic"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingSource counts how often a Verifier asks for keys beyond Current.
type countingSource struct {
	KeySource
	refreshes atomic.Int64
}

func (c *countingSource) Refresh(ctx context.Context) (*JWKS, error) {
	c.refreshes.Add(1)
	return c.KeySource.Refresh(ctx)
}

func TestCacheHitReturnsSameClaims(t *testing.T) {
	ec := newECTestKey(t, "ec", "ES256", elliptic.P256())
	v := newTestVerifier(t, mustParseJWKS(t, ec))
	tok := ec.sign(t, "ES256", baseClaims())
	c1, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if c1 != c2 {
		t.Error("second verification did not come from the cache")
	}
	if n := v.cache.len(); n != 1 {
		t.Errorf("cache holds %d entries, want 1", n)
	}

	uncached := newTestVerifier(t, mustParseJWKS(t, ec), WithCacheSize(0))
	u1, _ := uncached.Verify(context.Background(), tok)
	u2, _ := uncached.Verify(context.Background(), tok)
	if u1 == nil || u1 == u2 || uncached.cache != nil {
		t.Error("WithCacheSize(0) still caches")
	}
}

func TestCacheExpiresWithToken(t *testing.T) {
	ec := newECTestKey(t, "ec", "ES256", elliptic.P256())
	var now atomic.Pointer[time.Time]
	start := t0
	now.Store(&start)
	v := newTestVerifier(t, mustParseJWKS(t, ec), WithClock(func() time.Time { return *now.Load() }), WithLeeway(0))
	tok := ec.sign(t, "ES256", with(baseClaims(), "exp", t0.Add(time.Minute).Unix()))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Minute)
	now.Store(&later)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("cached token past its exp: got %v, want ErrExpired", err)
	}
	if n := v.cache.len(); n != 0 {
		t.Errorf("expired entry kept: %d entries", n)
	}
}

func TestCacheDropsRotatedKey(t *testing.T) {
	old := newECTestKey(t, "k1", "ES256", elliptic.P256())
	next := newECTestKey(t, "k2", "ES256", elliptic.P256())
	src := &swapSource{set: mustParseJWKS(t, old)}
	v := newTestVerifier(t, src)
	tok := old.sign(t, "ES256", baseClaims())
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	// Same kid, same key material, new parse: the cache stays valid.
	src.swap(mustParseJWKS(t, old, next))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("re-published key: %v", err)
	}
	// Key withdrawn: the cached token goes with it.
	src.swap(mustParseJWKS(t, next))
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("withdrawn key: got %v, want ErrUnknownKey", err)
	}
	// Same kid now names another key: the cached token is not trusted.
	impostor := newECTestKey(t, "k1", "ES256", elliptic.P256())
	src.swap(mustParseJWKS(t, old))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	src.swap(mustParseJWKS(t, impostor))
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrSignature) {
		t.Fatalf("kid re-bound to another key: got %v, want ErrSignature", err)
	}
}

func TestCacheBounded(t *testing.T) {
	ec := newECTestKey(t, "ec", "ES256", elliptic.P256())
	const size = 32
	v := newTestVerifier(t, mustParseJWKS(t, ec), WithCacheSize(size))
	for i := range 300 {
		tok := ec.sign(t, "ES256", with(baseClaims(), "jti", fmt.Sprint(i)))
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.cache.len(); n > size || n < size/2 {
		t.Errorf("cache holds %d entries, bound %d", n, size)
	}
}

func TestCacheEvictsExpiredFirst(t *testing.T) {
	c := newTokenCache(cacheShards) // one entry per shard
	var a, b [32]byte
	b[8] = 1 // same shard (index from bytes 0..7), different key
	c.put(&a, cacheEntry{until: t0.Add(time.Second)}, t0)
	later := t0.Add(time.Hour)
	c.put(&b, cacheEntry{until: later.Add(time.Hour)}, later)
	if _, ok := c.get(&b, later); !ok {
		t.Fatal("new entry missing")
	}
	if _, ok := c.get(&a, t0); ok {
		t.Fatal("expired entry survived a full shard")
	}
}

// TestVerifyConcurrent exercises the cache shards and the key source from
// many goroutines; run with -race.
func TestVerifyConcurrent(t *testing.T) {
	ec := newECTestKey(t, "ec", "ES256", elliptic.P256())
	src := &countingSource{KeySource: mustParseJWKS(t, ec)}
	v := newTestVerifier(t, src, WithCacheSize(64))
	toks := make([]string, 100)
	for i := range toks {
		toks[i] = ec.sign(t, "ES256", with(baseClaims(), "jti", fmt.Sprint(i)))
	}
	bad := ec.sign(t, "ES256", baseClaims(), "kid", "unknown")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 400 {
				tok := toks[(i*7+g)%len(toks)]
				if _, err := v.Verify(context.Background(), tok); err != nil {
					errs <- err
					return
				}
				if i%50 == 0 {
					if _, err := v.Verify(context.Background(), bad); !errors.Is(err, ErrUnknownKey) {
						errs <- fmt.Errorf("unknown kid: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if src.refreshes.Load() == 0 {
		t.Error("unknown kid never asked the source to refresh")
	}
}

func TestNewVerifierConfig(t *testing.T) {
	set := mustParseJWKS(t, newECTestKey(t, "ec", "ES256", elliptic.P256()))
	base := []VerifierOption{WithIssuer(testIssuer), WithAudience(testAudience)}
	bad := map[string][]VerifierOption{
		"no issuer":         {WithAudience(testAudience)},
		"empty issuer":      {WithIssuer(""), WithAudience(testAudience)},
		"no audience":       {WithIssuer(testIssuer)},
		"wildcard audience": append(base, WithAudience("*")),
		"alg none":          append(base, WithAlgorithms("ES256", "none")),
		"unknown alg":       append(base, WithAlgorithms("ES256K")),
		"negative leeway":   append(base, WithLeeway(-time.Second)),
		"leeway too long":   append(base, WithLeeway(MaxLeeway+time.Second)),
		"zero max size":     append(base, WithMaxSize(0)),
		"huge max size":     append(base, WithMaxSize(MaxTokenSize+1)),
		"negative cache":    append(base, WithCacheSize(-1)),
		"critical alg":      append(base, WithCriticalHeaders("alg")),
		"critical b64":      append(base, WithCriticalHeaders("b64")),
		"nil clock":         append(base, WithClock(nil)),
	}
	for name, opts := range bad {
		if _, err := NewVerifier(set, opts...); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: got %v, want ErrConfig", name, err)
		}
	}
	if _, err := NewVerifier(nil, base...); !errors.Is(err, ErrConfig) {
		t.Errorf("nil source: got %v", err)
	}
	if _, err := NewVerifier(set, append(base, WithLeeway(MaxLeeway), WithAlgorithms("ES256"), WithType("at+jwt"))...); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}
