package token

import (
	"crypto/elliptic"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"
)

// rfc7638N is the RSA modulus of the RFC 7638 section 3.1 example.
const rfc7638N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"

func TestThumbprintRFC7638(t *testing.T) {
	set, err := ParseJWKS([]byte(`{"kty":"RSA","n":"` + rfc7638N + `","e":"AQAB","alg":"RS256","kid":"2011-04-29"}`))
	if err != nil {
		t.Fatal(err)
	}
	k := set.Keys()[0]
	if k.Err() != nil {
		t.Fatal(k.Err())
	}
	if got, want := k.Thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint %s, want %s", got, want)
	}
	if k.ID() != "2011-04-29" || k.Type() != "RSA" || k.Algorithm() != "RS256" {
		t.Errorf("accessors: %q %q %q", k.ID(), k.Type(), k.Algorithm())
	}
}

func TestROCAFingerprint(t *testing.T) {
	// M is the product of the primes the test uses; a modulus congruent to
	// a power of 65537 modulo M has the fingerprint.
	m := big.NewInt(1)
	for p := int64(3); p <= 167; p += 2 {
		if big.NewInt(p).ProbablyPrime(0) {
			m.Mul(m, big.NewInt(p))
		}
	}
	fingerprinted := new(big.Int).Exp(big.NewInt(65537), big.NewInt(1234567), m)
	fingerprinted.Add(fingerprinted, new(big.Int).Mul(m, new(big.Int).Lsh(big.NewInt(1), 1800)))
	if vuln, small := rocaFingerprint(fingerprinted); !vuln || small {
		t.Errorf("constructed ROCA modulus: vulnerable=%v smallFactor=%v", vuln, small)
	}
	if vuln, small := rocaFingerprint(rsaKey().N); vuln || small {
		t.Errorf("fresh crypto/rsa modulus: vulnerable=%v smallFactor=%v", vuln, small)
	}
	withFactor := new(big.Int).Mul(rsaKey().N, big.NewInt(167))
	if _, small := rocaFingerprint(withFactor); !small {
		t.Error("modulus divisible by 167 not reported")
	}
}

func TestParseJWKSKeyValidation(t *testing.T) {
	ec := newECTestKey(t, "ec", "ES256", elliptic.P256())
	rsa := newRSATestKey("rsa", "")
	ed := newEdTestKey(t, "ed", "")
	cases := []struct {
		name string
		jwk  map[string]any
		want string // substring of Err(); "" for a usable key
	}{
		{"EC ok", ec.jwk, ""},
		{"RSA ok", rsa.jwk, ""},
		{"Ed25519 ok", ed.jwk, ""},
		{"kty missing", with(ec.jwk, "kty", nil), "kty missing"},
		{"kty unknown", with(ec.jwk, "kty", "DSA"), "unsupported kty"},
		{"kid not a string", with(ec.jwk, "kid", 3), "kid is not a string"},
		{"use enc", with(ec.jwk, "use", "enc"), "use is"},
		{"key_ops not a list", with(ec.jwk, "key_ops", "verify"), "key_ops"},
		{"EC curve unknown", with(ec.jwk, "crv", "secp256k1"), "unsupported EC curve"},
		{"EC alg for another curve", with(ec.jwk, "alg", "ES384"), "needs curve P-384"},
		{"EC x short", with(ec.jwk, "x", b64(make([]byte, 31))), "coordinates must be 32 bytes"},
		{"EC y bad base64", with(ec.jwk, "y", "!!"), "base64url"},
		{"EC private d", with(ec.jwk, "d", "AAAA"), "private member"},
		{"RSA alg ES256", with(rsa.jwk, "alg", "ES256"), "does not fit kty RSA"},
		{"RSA private p", with(rsa.jwk, "p", "AAAA"), "private member"},
		{"RSA exponent 1", with(rsa.jwk, "e", "AQ"), "exponent"},
		{"RSA exponent even", with(rsa.jwk, "e", "AQAA"), "exponent"},
		{"RSA exponent huge", with(rsa.jwk, "e", "AQAAAAAB"), "exponent"},
		{"RSA modulus even", with(rsa.jwk, "n", b64(new(big.Int).Lsh(rsaKey().N, 1).Bytes())), "modulus is even"},
		{"RSA modulus 1024", with(rsa.jwk, "n", b64(new(big.Int).Rsh(rsaKey().N, 1024).Bytes())), "minimum is 2048"},
		{"RSA modulus 8200 bits", with(rsa.jwk, "n", b64(new(big.Int).Lsh(rsaKey().N, 6152).Bytes())), "maximum is 8192"},
		{"RSA n missing", with(rsa.jwk, "n", nil), "n missing"},
		{"OKP Ed448", with(ed.jwk, "crv", "Ed448"), "unsupported OKP curve"},
		{"OKP short", with(ed.jwk, "x", b64(make([]byte, 31))), "32 bytes"},
		{"OKP alg ES256", with(ed.jwk, "alg", "ES256"), "does not fit kty OKP"},
		{"oct empty", map[string]any{"kty": "oct", "k": ""}, "k missing or empty"},
		{"oct 248 bits", map[string]any{"kty": "oct", "k": b64(make([]byte, 31))}, "shorter than 256 bits"},
		{"oct HS512 with 384 bits", map[string]any{"kty": "oct", "alg": "HS512", "k": b64(make([]byte, 48))}, "512 bits HS512 requires"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			set, err := ParseJWKS(jwksJSON(t, c.jwk))
			if err != nil {
				t.Fatal(err)
			}
			kerr := set.Keys()[0].Err()
			switch {
			case c.want == "" && kerr != nil:
				t.Fatalf("unusable: %v", kerr)
			case c.want != "" && (kerr == nil || !strings.Contains(kerr.Error(), c.want)):
				t.Fatalf("got %v, want an error containing %q", kerr, c.want)
			case c.want != "" && !errors.Is(kerr, ErrInvalidKey):
				t.Fatalf("%v does not wrap ErrInvalidKey", kerr)
			}
		})
	}
}

func TestParseJWKSSetErrors(t *testing.T) {
	ec := newECTestKey(t, "ec", "ES256", elliptic.P256())
	hs := newHMACTestKey(t, "hs", "HS256", 32)
	many := make([]map[string]any, MaxKeys+1)
	for i := range many {
		many[i] = with(ec.jwk, "kid", fmt.Sprint(i))
	}
	cases := []struct {
		name string
		doc  []byte
	}{
		{"not JSON", []byte("keys")},
		{"array", []byte(`[{"kty":"oct"}]`)},
		{"neither set nor key", []byte(`{"foo":1}`)},
		{"keys not an array", []byte(`{"keys":{}}`)},
		{"key not an object", []byte(`{"keys":[1]}`)},
		{"duplicate kid", jwksJSON(t, ec.jwk, ec.jwk)},
		{"mixed symmetric and asymmetric", jwksJSON(t, ec.jwk, hs.jwk)},
		{"too many keys", jwksJSON(t, many...)},
		{"duplicate member", []byte(`{"keys":[],"keys":[]}`)},
		{"too large", append([]byte(`{"keys":[],"pad":"`), append([]byte(strings.Repeat("a", MaxKeySetSize)), '"', '}')...)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseJWKS(c.doc); !errors.Is(err, ErrInvalidKeySet) {
				t.Fatalf("got %v, want ErrInvalidKeySet", err)
			}
		})
	}
	t.Run("single JWK", func(t *testing.T) {
		set, err := ParseJWKS(mustJSON(t, ec.jwk))
		if err != nil || len(set.Keys()) != 1 || set.Symmetric() {
			t.Fatalf("set %v, err %v", set, err)
		}
	})
	t.Run("keys without kid may repeat", func(t *testing.T) {
		set, err := ParseJWKS(jwksJSON(t, with(ec.jwk, "kid", nil), with(ec.jwk, "kid", nil)))
		if err != nil || len(set.Keys()) != 2 {
			t.Fatalf("set %v, err %v", set, err)
		}
	})
	t.Run("symmetric set", func(t *testing.T) {
		set, err := ParseJWKS(jwksJSON(t, hs.jwk))
		if err != nil || !set.Symmetric() {
			t.Fatalf("set %v, err %v", set, err)
		}
	})
}
