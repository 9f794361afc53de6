package token

import (
	"context"
	"crypto/elliptic"
	"fmt"
	"testing"
)

// benchKeys returns one key per algorithm family benchmarked and the set
// (or sets: HMAC secrets cannot share a set with public keys) they live in.
func benchTokens(b *testing.B) []struct {
	alg  string
	keys *JWKS
	tok  string
} {
	ec := newECTestKey(b, "ec", "ES256", elliptic.P256())
	rsa := newRSATestKey("rsa", "RS256")
	ed := newEdTestKey(b, "ed", "EdDSA")
	hs := newHMACTestKey(b, "hs", "HS256", 32)
	pub := mustParseJWKS(b, ec, rsa, ed)
	claims := with(baseClaims(), "scope", "orders:read orders:write", "roles", []string{"editor", "viewer"})
	return []struct {
		alg  string
		keys *JWKS
		tok  string
	}{
		{"ES256", pub, ec.sign(b, "ES256", claims)},
		{"RS256", pub, rsa.sign(b, "RS256", claims)},
		{"EdDSA", pub, ed.sign(b, "EdDSA", claims)},
		{"HS256", mustParseJWKS(b, hs), hs.sign(b, "HS256", claims)},
	}
}

// BenchmarkVerifyUncached measures a full verification: parsing, key
// lookup, signature and claims, with the cache disabled.
func BenchmarkVerifyUncached(b *testing.B) {
	for _, c := range benchTokens(b) {
		b.Run(c.alg, func(b *testing.B) {
			v := newTestVerifier(b, c.keys, WithCacheSize(0))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, c.tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyCached measures the common case of a service seeing the
// same bearer token again: hash, shard lookup, key-still-published check.
func BenchmarkVerifyCached(b *testing.B) {
	for _, c := range benchTokens(b) {
		b.Run(c.alg, func(b *testing.B) {
			v := newTestVerifier(b, c.keys)
			ctx := context.Background()
			if _, err := v.Verify(ctx, c.tok); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, c.tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyCachedParallel measures cache hits from all CPUs over many
// distinct tokens, which is what the shards are for.
func BenchmarkVerifyCachedParallel(b *testing.B) {
	ec := newECTestKey(b, "ec", "ES256", elliptic.P256())
	v := newTestVerifier(b, mustParseJWKS(b, ec))
	toks := make([]string, 256)
	for i := range toks {
		toks[i] = ec.sign(b, "ES256", with(baseClaims(), "jti", fmt.Sprint(i)))
		if _, err := v.Verify(context.Background(), toks[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		i := 0
		for pb.Next() {
			if _, err := v.Verify(ctx, toks[i%len(toks)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

// BenchmarkAttributes measures the claims-to-attributes mapping the SDK
// performs on every request.
func BenchmarkAttributes(b *testing.B) {
	c := benchTokens(b)[0]
	v := newTestVerifier(b, c.keys)
	claims, err := v.Verify(context.Background(), c.tok)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(claims.Attributes()) == 0 {
			b.Fatal("no attributes")
		}
	}
}
