package token

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// forgery is one token presented to a verifier and the sentinel error it
// must be rejected with (nil: it must be accepted).
type forgery struct {
	name  string
	keys  KeySource // default: the standard asymmetric set
	opts  []VerifierOption
	token string
	want  error
}

// TestForgedTokens covers every rule of the verifier with a token built to
// break exactly that rule, next to control tokens that must pass.
func TestForgedTokens(t *testing.T) {
	ec := newECTestKey(t, "ec", "ES256", elliptic.P256())
	ecNoAlg := newECTestKey(t, "ec-noalg", "", elliptic.P256())
	ec384 := newECTestKey(t, "ec384", "ES384", elliptic.P384())
	ec521 := newECTestKey(t, "ec521", "ES512", elliptic.P521())
	rsaAny := newRSATestKey("rsa", "")
	rsaPS := newRSATestKey("rsa-ps", "PS256")
	ed := newEdTestKey(t, "ed", "EdDSA")
	attacker := newECTestKey(t, "ec", "ES256", elliptic.P256()) // same kid, other key
	std := mustParseJWKS(t, ec, ecNoAlg, ec384, ec521, rsaAny, rsaPS, ed)

	hs256 := newHMACTestKey(t, "hs", "HS256", 32)
	hsNoAlg := newHMACTestKey(t, "hs-noalg", "", 48)
	hmacSet := mustParseJWKS(t, hs256, hsNoAlg)

	single := mustParseJWKS(t, ecNoAlg)
	claims := baseClaims()

	// A JWKS holding one key with the given JWK members changed.
	keyWith := func(k testKey, kv ...any) *JWKS {
		t.Helper()
		set, err := ParseJWKS(jwksJSON(t, with(k.jwk, kv...)))
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	// An ES256 token whose signature is replaced by r||s.
	ecdsaRS := func(r, s *big.Int) string {
		tok := ec.sign(t, "ES256", claims)
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		return tok[:strings.LastIndexByte(tok, '.')+1] + b64(sig)
	}
	n256 := elliptic.P256().Params().N
	one := big.NewInt(1)
	// A token signed by ec whose header is exactly hdr (raw JSON).
	rawHeader := func(hdr string, payload any) string {
		return signRaw(t, []byte(hdr), mustJSON(t, payload), jwt.SigningMethodES256, ec.priv)
	}
	rsaDER, err := x509.MarshalPKIXPublicKey(&rsaKey().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	attackerJWK := attacker.jwk
	valid := ec.sign(t, "ES256", claims)
	dot := strings.LastIndexByte(valid, '.')

	cases := []forgery{
		// Controls: every key type verifies when used as bound.
		{name: "valid ES256", token: valid},
		{name: "valid ES384", token: ec384.sign(t, "ES384", claims)},
		{name: "valid ES512 on P-521", token: ec521.sign(t, "ES512", claims)},
		{name: "valid RS256, key without alg", token: rsaAny.sign(t, "RS256", claims)},
		{name: "valid PS512, key without alg", token: rsaAny.sign(t, "PS512", claims)},
		{name: "valid PS256, key bound to PS256", token: rsaPS.sign(t, "PS256", claims)},
		{name: "valid EdDSA", token: ed.sign(t, "EdDSA", claims)},
		{name: "valid HS256", keys: hmacSet, token: hs256.sign(t, "HS256", claims)},
		{name: "valid HS384, 384-bit secret without alg", keys: hmacSet, token: hsNoAlg.sign(t, "HS384", claims)},
		{name: "valid without kid, single-key set", keys: single, token: ecNoAlg.sign(t, "ES256", claims, "kid", nil)},

		// alg
		{name: "alg none", token: b64([]byte(`{"alg":"none","kid":"ec"}`)) + "." + b64(mustJSON(t, claims)) + ".", want: ErrAlgorithm},
		{name: "alg none with a signature", token: b64([]byte(`{"alg":"none","kid":"ec"}`)) + "." + b64(mustJSON(t, claims)) + "." + valid[dot+1:], want: ErrAlgorithm},
		{name: "alg NONE", token: b64([]byte(`{"alg":"NONE","kid":"ec"}`)) + "." + b64(mustJSON(t, claims)) + ".", want: ErrAlgorithm},
		{name: "alg missing", token: rawHeader(`{"kid":"ec"}`, claims), want: ErrMalformed},
		{name: "alg lower case", token: rawHeader(`{"alg":"es256","kid":"ec"}`, claims), want: ErrAlgorithm},
		{name: "alg not in allowed list", opts: []VerifierOption{WithAlgorithms("ES256")}, token: rsaAny.sign(t, "RS256", claims), want: ErrAlgorithm},
		{name: "HS256 forged with the RSA public key as secret", token: signRaw(t, mustJSON(t, map[string]any{"alg": "HS256", "kid": "rsa"}), mustJSON(t, claims), jwt.SigningMethodHS256, rsaDER), want: ErrAlgorithm},
		{name: "HS256 forged with the EC JWK x as secret", token: signRaw(t, mustJSON(t, map[string]any{"alg": "HS256", "kid": "ec"}), mustJSON(t, claims), jwt.SigningMethodHS256, []byte(ec.jwk["x"].(string))), want: ErrAlgorithm},
		{name: "RS256 header on an EC key", token: signRaw(t, mustJSON(t, map[string]any{"alg": "RS256", "kid": "ec"}), mustJSON(t, claims), jwt.SigningMethodRS256, rsaKey()), want: ErrAlgorithm},
		{name: "RS256 on an RSA key bound to PS256", token: rsaPS.sign(t, "RS256", claims), want: ErrAlgorithm},
		{name: "ES384 header on a P-256 key without alg", token: signRaw(t, mustJSON(t, map[string]any{"alg": "ES384", "kid": "ec-noalg"}), mustJSON(t, claims), jwt.SigningMethodES384, ec384.priv), want: ErrAlgorithm},
		{name: "ES256 header on a key bound to ES384", token: signRaw(t, mustJSON(t, map[string]any{"alg": "ES256", "kid": "ec384"}), mustJSON(t, claims), jwt.SigningMethodES256, ec.priv), want: ErrAlgorithm},
		{name: "Ed25519 header on a key bound to EdDSA", token: ed.sign(t, "Ed25519", claims), want: ErrAlgorithm},
		{name: "HS512 with a 384-bit secret", keys: hmacSet, token: hsNoAlg.sign(t, "HS512", claims), want: ErrInvalidKey},

		// Signatures
		{name: "empty signature", token: valid[:dot+1], want: ErrSignature},
		{name: "signature by another key with the same kid", token: attacker.sign(t, "ES256", claims), want: ErrSignature},
		{name: "payload changed after signing", token: b64([]byte(`{"alg":"ES256","kid":"ec","typ":"JWT"}`)) + "." + b64(mustJSON(t, with(claims, "sub", "mallory"))) + valid[dot:], want: ErrSignature},
		{name: "ECDSA r = 0", token: ecdsaRS(big.NewInt(0), one), want: ErrSignature},
		{name: "ECDSA s = 0", token: ecdsaRS(one, big.NewInt(0)), want: ErrSignature},
		{name: "ECDSA r = n", token: ecdsaRS(n256, one), want: ErrSignature},
		{name: "ECDSA s = n", token: ecdsaRS(one, n256), want: ErrSignature},
		{name: "ECDSA signature one byte short", token: valid[:dot+1] + b64(mustDecode(t, valid[dot+1:])[:63]), want: ErrSignature},
		{name: "ECDSA signature one byte long", token: valid[:dot+1] + b64(append(mustDecode(t, valid[dot+1:]), 0)), want: ErrSignature},
		{name: "ECDSA signature DER-encoded", token: valid[:dot+1] + b64(derSignature(t, ec.priv.(*ecdsa.PrivateKey), valid[:dot])), want: ErrSignature},

		// Keys from the token
		{name: "embedded jwk", token: attacker.sign(t, "ES256", claims, "jwk", attackerJWK), want: ErrHeader},
		{name: "jku", token: ec.sign(t, "ES256", claims, "jku", "https://attacker.example/jwks"), want: ErrHeader},
		{name: "x5u", token: ec.sign(t, "ES256", claims, "x5u", "https://attacker.example/cert.pem"), want: ErrHeader},
		{name: "x5c", token: ec.sign(t, "ES256", claims, "x5c", []string{"MIIB"}), want: ErrHeader},
		{name: "b64 false", token: ec.sign(t, "ES256", claims, "b64", false, "crit", []string{"b64"}), want: ErrHeader},
		{name: "nested JWT", token: ec.sign(t, "ES256", claims, "cty", "JWT"), want: ErrHeader},

		// kid
		{name: "unknown kid", token: ec.sign(t, "ES256", claims, "kid", "nope"), want: ErrUnknownKey},
		{name: "kid not a string", token: ec.sign(t, "ES256", claims, "kid", 7), want: ErrMalformed},
		{name: "no kid, several keys", token: ec.sign(t, "ES256", claims, "kid", nil), want: ErrUnknownKey},

		// crit
		{name: "crit empty", token: ec.sign(t, "ES256", claims, "crit", []string{}), want: ErrCrit},
		{name: "crit not understood", token: ec.sign(t, "ES256", claims, "crit", []string{"ext"}, "ext", 1), want: ErrCrit},
		{name: "crit not an array", token: ec.sign(t, "ES256", claims, "crit", "ext", "ext", 1), want: ErrCrit},
		{name: "crit names a registered header", opts: []VerifierOption{WithCriticalHeaders("ext")}, token: ec.sign(t, "ES256", claims, "crit", []string{"alg"}), want: ErrCrit},
		{name: "crit understood", opts: []VerifierOption{WithCriticalHeaders("ext")}, token: ec.sign(t, "ES256", claims, "crit", []string{"ext"}, "ext", 1)},
		{name: "crit understood but absent", opts: []VerifierOption{WithCriticalHeaders("ext")}, token: ec.sign(t, "ES256", claims, "crit", []string{"ext"}), want: ErrCrit},
		{name: "crit listed twice", opts: []VerifierOption{WithCriticalHeaders("ext")}, token: ec.sign(t, "ES256", claims, "crit", []string{"ext", "ext"}, "ext", 1), want: ErrCrit},

		// typ
		{name: "typ matches", opts: []VerifierOption{WithType("at+jwt")}, token: ec.sign(t, "ES256", claims, "typ", "at+jwt")},
		{name: "typ with application/ prefix and case", opts: []VerifierOption{WithType("at+jwt")}, token: ec.sign(t, "ES256", claims, "typ", "application/AT+JWT")},
		{name: "typ wrong", opts: []VerifierOption{WithType("at+jwt")}, token: valid, want: ErrType},
		{name: "typ missing", opts: []VerifierOption{WithType("at+jwt")}, token: ec.sign(t, "ES256", claims, "typ", nil), want: ErrType},

		// Size, checked before parsing
		{name: "oversized garbage", token: strings.Repeat("!", DefaultMaxSize+1), want: ErrTooLarge},
		{name: "oversized valid token", token: ec.sign(t, "ES256", with(claims, "pad", strings.Repeat("a", DefaultMaxSize))), want: ErrTooLarge},
		{name: "token at a custom limit", opts: []VerifierOption{WithMaxSize(len(valid))}, token: valid},
		{name: "token above a custom limit", opts: []VerifierOption{WithMaxSize(len(valid) - 1)}, token: valid, want: ErrTooLarge},

		// Serialization
		{name: "empty", token: "", want: ErrMalformed},
		{name: "two segments", token: valid[:dot], want: ErrMalformed},
		{name: "four segments", token: valid + ".x", want: ErrMalformed},
		{name: "JSON serialization", token: `{"payload":"e30","signatures":[]}`, want: ErrMalformed},
		{name: "padded base64", token: valid + "=", want: ErrMalformed},
		{name: "newline in signature", token: valid[:dot+5] + "\n" + valid[dot+5:], want: ErrMalformed},
		{name: "header not JSON", token: "bm90anNvbg." + valid[strings.IndexByte(valid, '.')+1:], want: ErrMalformed},
		{name: "duplicate header member", token: rawHeader(`{"alg":"ES256","kid":"other","kid":"ec"}`, claims), want: ErrMalformed},
		{name: "duplicate claim", token: signRaw(t, mustJSON(t, map[string]any{"alg": "ES256", "kid": "ec"}), []byte(`{"iss":"`+testIssuer+`","aud":"`+testAudience+`","exp":4102444800,"sub":"alice","sub":"admin"}`), jwt.SigningMethodES256, ec.priv), want: ErrMalformed},
		{name: "claims not an object", token: ec.sign(t, "ES256", []any{claims}), want: ErrMalformed},
		{name: "claims not UTF-8", token: signRaw(t, mustJSON(t, map[string]any{"alg": "ES256", "kid": "ec"}), []byte("{\"iss\":\"\xff\"}"), jwt.SigningMethodES256, ec.priv), want: ErrMalformed},

		// Time
		{name: "exp missing", token: ec.sign(t, "ES256", with(claims, "exp", nil)), want: ErrMissingClaim},
		{name: "exp passed", token: ec.sign(t, "ES256", with(claims, "exp", t0.Add(-time.Hour).Unix())), want: ErrExpired},
		{name: "exp passed within leeway", token: ec.sign(t, "ES256", with(claims, "exp", t0.Add(-10*time.Second).Unix()))},
		{name: "exp passed beyond a zero leeway", opts: []VerifierOption{WithLeeway(0)}, token: ec.sign(t, "ES256", with(claims, "exp", t0.Add(-time.Second).Unix())), want: ErrExpired},
		{name: "exp a string", token: ec.sign(t, "ES256", with(claims, "exp", "4102444800")), want: ErrMalformed},
		{name: "exp beyond year 9999", token: ec.sign(t, "ES256", with(claims, "exp", json.Number("1e300"))), want: ErrMalformed},
		{name: "exp negative", token: ec.sign(t, "ES256", with(claims, "exp", -1)), want: ErrMalformed},
		{name: "exp fractional", token: ec.sign(t, "ES256", with(claims, "exp", json.Number("4102444800.5")))},
		{name: "nbf in the future", token: ec.sign(t, "ES256", with(claims, "nbf", t0.Add(time.Hour).Unix())), want: ErrNotYetValid},
		{name: "nbf within leeway", token: ec.sign(t, "ES256", with(claims, "nbf", t0.Add(10*time.Second).Unix()))},
		{name: "nbf overflowing into the past", token: ec.sign(t, "ES256", with(claims, "nbf", json.Number("1e19"))), want: ErrMalformed},
		{name: "iat in the future", token: ec.sign(t, "ES256", with(claims, "iat", t0.Add(time.Hour).Unix())), want: ErrNotYetValid},

		// iss
		{name: "iss missing", token: ec.sign(t, "ES256", with(claims, "iss", nil)), want: ErrMissingClaim},
		{name: "iss other", token: ec.sign(t, "ES256", with(claims, "iss", "https://evil.example")), want: ErrIssuer},
		{name: "iss differs in case", token: ec.sign(t, "ES256", with(claims, "iss", strings.ToUpper(testIssuer))), want: ErrIssuer},
		{name: "iss not a string", token: ec.sign(t, "ES256", with(claims, "iss", []string{testIssuer})), want: ErrMalformed},
		{name: "second configured issuer", opts: []VerifierOption{WithIssuer("https://other.example")}, token: ec.sign(t, "ES256", with(claims, "iss", "https://other.example"))},

		// aud
		{name: "aud missing", token: ec.sign(t, "ES256", with(claims, "aud", nil)), want: ErrMissingClaim},
		{name: "aud empty array", token: ec.sign(t, "ES256", with(claims, "aud", []string{})), want: ErrMissingClaim},
		{name: "aud other", token: ec.sign(t, "ES256", with(claims, "aud", "api://billing")), want: ErrAudience},
		{name: "aud array with ours", token: ec.sign(t, "ES256", with(claims, "aud", []string{"api://billing", testAudience}))},
		{name: "aud array without ours", token: ec.sign(t, "ES256", with(claims, "aud", []string{"api://billing", "api://hr"})), want: ErrAudience},
		{name: "aud array with a non-string", token: ec.sign(t, "ES256", with(claims, "aud", []any{testAudience, 1})), want: ErrMalformed},
		{name: "aud matches a pattern", opts: []VerifierOption{WithAudience("*.example.com")}, token: ec.sign(t, "ES256", with(claims, "aud", "api.example.com"))},
		{name: "aud matches a pattern, several labels", opts: []VerifierOption{WithAudience("*.example.com")}, token: ec.sign(t, "ES256", with(claims, "aud", "eu.api.example.com"))},
		{name: "aud is the pattern's parent", opts: []VerifierOption{WithAudience("*.example.com")}, token: ec.sign(t, "ES256", with(claims, "aud", "example.com")), want: ErrAudience},
		{name: "aud smuggles a path", opts: []VerifierOption{WithAudience("*.example.com")}, token: ec.sign(t, "ES256", with(claims, "aud", "evil.com/.example.com")), want: ErrAudience},
		{name: "aud suffix attack", opts: []VerifierOption{WithAudience("*.example.com")}, token: ec.sign(t, "ES256", with(claims, "aud", "api.example.com.evil.net")), want: ErrAudience},

		// Invalid keys in the key set
		{name: "key with use enc", keys: keyWith(ecNoAlg, "use", "enc"), token: ecNoAlg.sign(t, "ES256", claims), want: ErrInvalidKey},
		{name: "key_ops without verify", keys: keyWith(ecNoAlg, "key_ops", []string{"encrypt"}), token: ecNoAlg.sign(t, "ES256", claims), want: ErrInvalidKey},
		{name: "key_ops with verify", keys: keyWith(ecNoAlg, "key_ops", []string{"verify"}), token: ecNoAlg.sign(t, "ES256", claims)},
		{name: "EC point off the curve", keys: keyWith(ecNoAlg, "y", b64(offCurveY(t, ecNoAlg))), token: ecNoAlg.sign(t, "ES256", claims), want: ErrInvalidKey},
		{name: "EC key with its private scalar", keys: keyWith(ecNoAlg, "d", b64(mustPrivateBytes(t, ecNoAlg))), token: ecNoAlg.sign(t, "ES256", claims), want: ErrInvalidKey},
		{name: "HMAC secret under 256 bits", keys: mustParseJWKS(t, newHMACTestKey(t, "short", "", 31)), token: signRaw(t, []byte(`{"alg":"HS256","kid":"short"}`), mustJSON(t, claims), jwt.SigningMethodHS256, make([]byte, 31)), want: ErrInvalidKey},
		{name: "HS384 key with a 256-bit secret", keys: mustParseJWKS(t, newHMACTestKey(t, "hs", "HS384", 32)), token: hs256.sign(t, "HS384", claims), want: ErrInvalidKey},
		{name: "key bound to an unknown alg", keys: keyWith(ecNoAlg, "alg", "ES521"), token: ecNoAlg.sign(t, "ES256", claims), want: ErrAlgorithm},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			keys := c.keys
			if keys == nil {
				keys = std
			}
			v := newTestVerifier(t, keys, c.opts...)
			claims, err := v.Verify(context.Background(), c.token)
			if c.want == nil {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if claims.Issuer() == "" || claims.ExpiresAt().IsZero() {
					t.Fatalf("accepted without iss/exp: %+v", claims)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if !classified(err) {
				t.Fatalf("error %v wraps more or less than one sentinel", err)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error spans lines: %q", err.Error())
			}
		})
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := decodeBase64URL(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// offCurveY returns a y that is not on the curve for k's x.
func offCurveY(t *testing.T, k testKey) []byte {
	y := k.priv.(*ecdsa.PrivateKey).PublicKey.Bytes
	raw, err := y()
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), raw[33:]...)
	bad[31] ^= 1
	return bad
}

// derSignature signs input with ASN.1 DER encoding, the format X.509 uses
// and JWS does not.
func derSignature(t *testing.T, k *ecdsa.PrivateKey, input string) []byte {
	h := jwt.SigningMethodES256.Hash.New()
	h.Write([]byte(input))
	sig, err := ecdsa.SignASN1(rand.Reader, k, h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// mustPrivateBytes returns the private scalar of an EC test key.
func mustPrivateBytes(t *testing.T, k testKey) []byte {
	t.Helper()
	b, err := k.priv.(*ecdsa.PrivateKey).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
