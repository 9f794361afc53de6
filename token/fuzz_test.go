package token

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// fuzzKeys are fixed so that a corpus entry reproduces across runs.
func fuzzKeys(t testing.TB) (hmacKey testKey, edKey testKey) {
	secret := bytes.Repeat([]byte{7}, 32)
	hmacKey = testKey{kid: "hs", alg: "HS256", priv: secret, jwk: map[string]any{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64(secret)}}
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	edKey = testKey{kid: "ed", alg: "EdDSA", priv: priv, jwk: map[string]any{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "alg": "EdDSA", "x": b64(priv.Public().(ed25519.PublicKey))}}
	return hmacKey, edKey
}

// FuzzVerify feeds arbitrary strings to the token parser and verifier. With
// deterministic signatures (HMAC, Ed25519) and canonical base64url, the
// only strings that may verify are the genuine tokens themselves; every
// other input must be rejected with exactly one sentinel error on one line.
func FuzzVerify(f *testing.F) {
	hs, ed := fuzzKeys(f)
	claims := baseClaims()
	genuine := map[string]bool{
		hs.sign(f, "HS256", claims):                                           true,
		ed.sign(f, "EdDSA", claims):                                           true,
		hs.sign(f, "HS256", with(claims, "scope", "a b", "nbf", t0.Unix())):   true,
		ed.sign(f, "EdDSA", with(claims, "aud", []string{"x", testAudience})): true,
	}
	for tok := range genuine {
		f.Add(tok)
		dot := strings.LastIndexByte(tok, '.')
		f.Add(tok[:dot+1])
		f.Add(tok + ".")
		f.Add(strings.Replace(tok, "e", "f", 1))
	}
	f.Add(signRaw(f, []byte(`{"alg":"HS256","kid":"hs","crit":["x"],"x":1}`), mustJSON(f, claims), jwt.SigningMethodHS256, hs.priv))
	f.Add(signRaw(f, []byte(`{"alg":"EdDSA","kid":"ed","jwk":{}}`), mustJSON(f, claims), jwt.SigningMethodEdDSA, ed.priv))
	f.Add(b64([]byte(`{"alg":"none"}`)) + "." + b64(mustJSON(f, claims)) + ".")
	f.Add(`{"payload":"e30"}`)
	f.Add("..")
	f.Add("")

	verifiers := []*Verifier{
		newTestVerifier(f, mustParseJWKS(f, hs), WithCacheSize(16)),
		newTestVerifier(f, mustParseJWKS(f, ed), WithCacheSize(0)),
	}
	f.Fuzz(func(t *testing.T, tok string) {
		for _, v := range verifiers {
			claims, err := v.Verify(context.Background(), tok)
			if err == nil {
				if !genuine[tok] {
					t.Fatalf("forged token accepted: %q", tok)
				}
				if claims.Issuer() != testIssuer {
					t.Fatalf("accepted with iss %q", claims.Issuer())
				}
				continue
			}
			if !classified(err) {
				t.Fatalf("unclassified error %v for %q", err, tok)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("multi-line error %q", err.Error())
			}
		}
	})
}

// FuzzParseJWKS feeds arbitrary documents to the key set parser: it must
// not panic, and every key it keeps is usable or says why not.
func FuzzParseJWKS(f *testing.F) {
	hs, ed := fuzzKeys(f)
	f.Add(jwksJSON(f, ed.jwk))
	f.Add(jwksJSON(f, hs.jwk))
	f.Add(mustJSON(f, ed.jwk))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"` + rfc7638N + `","e":"AQAB"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":""},{"kty":"oct","k":"AAAA"}]}`))
	f.Add([]byte(`{"keys":[[[[[[[[[[[[]]]]]]]]]]]]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		set, err := ParseJWKS(doc)
		if err != nil {
			if !errors.Is(err, ErrInvalidKeySet) {
				t.Fatalf("unclassified set error %v", err)
			}
			return
		}
		for _, k := range set.Keys() {
			if kerr := k.Err(); kerr != nil {
				if !errors.Is(kerr, ErrInvalidKey) {
					t.Fatalf("unclassified key error %v", kerr)
				}
				continue
			}
			if k.Thumbprint() == "" || k.public == nil {
				t.Fatalf("usable key without material: %+v", k)
			}
		}
	})
}
