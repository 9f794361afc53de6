package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// t0 is the fixed "now" of the tests.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func fixedClock() time.Time { return t0 }

const (
	testIssuer   = "https://issuer.example"
	testAudience = "api://orders"
)

// testKey is a private key with the public JWK a key set publishes for it.
type testKey struct {
	kid  string
	alg  string // JWK alg, "" for none
	priv any
	jwk  map[string]any
}

// rsaKey is generated once per test binary: RSA generation is slow.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newRSATestKey(kid, alg string) testKey {
	k := rsaKey()
	jwk := map[string]any{"kty": "RSA", "kid": kid, "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	if alg != "" {
		jwk["alg"] = alg
	}
	return testKey{kid: kid, alg: alg, priv: k, jwk: jwk}
}

func newECTestKey(t testing.TB, kid, alg string, curve elliptic.Curve) testKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	size := (curve.Params().BitSize + 7) / 8
	raw, err := k.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	jwk := map[string]any{
		"kty": "EC", "kid": kid, "crv": curve.Params().Name,
		"x": b64(raw[1 : 1+size]), "y": b64(raw[1+size:]),
	}
	if alg != "" {
		jwk["alg"] = alg
	}
	return testKey{kid: kid, alg: alg, priv: k, jwk: jwk}
}

func newEdTestKey(t testing.TB, kid, alg string) testKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jwk := map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(pub)}
	if alg != "" {
		jwk["alg"] = alg
	}
	return testKey{kid: kid, alg: alg, priv: priv, jwk: jwk}
}

func newHMACTestKey(t testing.TB, kid, alg string, size int) testKey {
	t.Helper()
	secret := make([]byte, size)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	jwk := map[string]any{"kty": "oct", "kid": kid, "k": b64(secret)}
	if alg != "" {
		jwk["alg"] = alg
	}
	return testKey{kid: kid, alg: alg, priv: secret, jwk: jwk}
}

// jwksJSON renders a key set document.
func jwksJSON(t testing.TB, jwks ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": jwks})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParseJWKS(t testing.TB, keys ...testKey) *JWKS {
	t.Helper()
	jwks := make([]map[string]any, len(keys))
	for i, k := range keys {
		jwks[i] = k.jwk
	}
	set, err := ParseJWKS(jwksJSON(t, jwks...))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// baseClaims are valid at t0 for testIssuer/testAudience.
func baseClaims() map[string]any {
	return map[string]any{
		"iss": testIssuer,
		"aud": testAudience,
		"sub": "alice",
		"iat": t0.Add(-time.Minute).Unix(),
		"exp": t0.Add(time.Hour).Unix(),
	}
}

// with returns a copy of m with the given members set (nil deletes).
func with(m map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	if b, ok := v.([]byte); ok {
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signRaw builds a compact JWS over the given header and payload bytes,
// signing with method and key (which may disagree with the header: that is
// how forgeries are made).
func signRaw(t testing.TB, hdr, payload []byte, method jwt.SigningMethod, key any) string {
	t.Helper()
	input := b64(hdr) + "." + b64(payload)
	sig, err := method.Sign(input, key)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// method returns the signing method for an algorithm name.
func method(t testing.TB, alg string) jwt.SigningMethod {
	t.Helper()
	a, ok := lookupAlgorithm(alg)
	if !ok {
		t.Fatalf("no algorithm %s", alg)
	}
	return a.method
}

// sign signs claims with k under header {"alg": alg, "kid": k.kid} plus
// extra header members (nil deletes).
func (k testKey) sign(t testing.TB, alg string, claims any, extra ...any) string {
	t.Helper()
	hdr := with(map[string]any{"alg": alg, "kid": k.kid, "typ": "JWT"}, extra...)
	return signRaw(t, mustJSON(t, hdr), mustJSON(t, claims), method(t, alg), k.priv)
}

// sentinels are the token-level errors every rejection must wrap.
var sentinels = []error{
	ErrTooLarge, ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrInvalidKey, ErrHeader,
	ErrCrit, ErrType, ErrSignature, ErrExpired, ErrNotYetValid, ErrMissingClaim,
	ErrIssuer, ErrAudience,
}

// classified reports whether err wraps exactly one token-level sentinel.
func classified(err error) bool {
	n := 0
	for _, s := range sentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	return n == 1
}

// swapSource is a KeySource whose set a test replaces at will.
type swapSource struct {
	mu  sync.Mutex
	set *JWKS
}

func (s *swapSource) Current(context.Context) (*JWKS, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set, nil
}

func (s *swapSource) Refresh(ctx context.Context) (*JWKS, error) { return s.Current(ctx) }

func (s *swapSource) swap(set *JWKS) {
	s.mu.Lock()
	s.set = set
	s.mu.Unlock()
}

func newTestVerifier(t testing.TB, keys KeySource, opts ...VerifierOption) *Verifier {
	t.Helper()
	base := []VerifierOption{WithIssuer(testIssuer), WithAudience(testAudience), WithClock(fixedClock)}
	v, err := NewVerifier(keys, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
