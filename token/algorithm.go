package token

import (
	"crypto"
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Key types (JWK "kty") this package verifies with.
const (
	ktyRSA = "RSA"
	ktyEC  = "EC"
	ktyOKP = "OKP"
	ktyOct = "oct"
)

// algorithm describes one JWS algorithm: which kind of key it needs and the
// golang-jwt signing method that checks its signatures.
type algorithm struct {
	name string
	kty  string
	// crv is the only curve an EC or OKP key may have for this algorithm.
	crv string
	// size is the minimum secret length in bytes for HMAC (the hash size,
	// RFC 7518 section 3.2) and the field size in bytes for ECDSA (r and s
	// are each exactly this long, RFC 7518 section 3.4).
	size   int
	method jwt.SigningMethod
}

// Algorithms lists every JWS algorithm this package can verify, in a stable
// order. "none" is never among them. It is what a Verifier accepts when no
// WithAlgorithms option narrows it.
func Algorithms() []string {
	return []string{
		"ES256", "ES384", "ES512",
		"EdDSA", "Ed25519",
		"PS256", "PS384", "PS512",
		"RS256", "RS384", "RS512",
		"HS256", "HS384", "HS512",
	}
}

// lookupAlgorithm returns the description of a supported algorithm. Names are
// case-sensitive (RFC 7515 section 4.1.1), so "NONE" or "hs256" are unknown.
//
// PS* use golang-jwt's RSA-PSS implementation with the salt length fixed to
// the hash size, as RFC 7518 section 3.5 requires; golang-jwt's shared PS*
// methods verify with an automatic salt length, which accepts signatures that
// no conforming signer produces.
func lookupAlgorithm(name string) (algorithm, bool) {
	switch name {
	case "HS256":
		return algorithm{name: name, kty: ktyOct, size: 32, method: jwt.SigningMethodHS256}, true
	case "HS384":
		return algorithm{name: name, kty: ktyOct, size: 48, method: jwt.SigningMethodHS384}, true
	case "HS512":
		return algorithm{name: name, kty: ktyOct, size: 64, method: jwt.SigningMethodHS512}, true
	case "RS256":
		return algorithm{name: name, kty: ktyRSA, method: jwt.SigningMethodRS256}, true
	case "RS384":
		return algorithm{name: name, kty: ktyRSA, method: jwt.SigningMethodRS384}, true
	case "RS512":
		return algorithm{name: name, kty: ktyRSA, method: jwt.SigningMethodRS512}, true
	case "PS256":
		return algorithm{name: name, kty: ktyRSA, method: pssMethod(name, crypto.SHA256)}, true
	case "PS384":
		return algorithm{name: name, kty: ktyRSA, method: pssMethod(name, crypto.SHA384)}, true
	case "PS512":
		return algorithm{name: name, kty: ktyRSA, method: pssMethod(name, crypto.SHA512)}, true
	case "ES256":
		return algorithm{name: name, kty: ktyEC, crv: "P-256", size: 32, method: jwt.SigningMethodES256}, true
	case "ES384":
		return algorithm{name: name, kty: ktyEC, crv: "P-384", size: 48, method: jwt.SigningMethodES384}, true
	case "ES512":
		return algorithm{name: name, kty: ktyEC, crv: "P-521", size: 66, method: jwt.SigningMethodES512}, true
	case "EdDSA", "Ed25519":
		// "Ed25519" is the fully specified name of RFC 9864 for the only
		// EdDSA curve supported here.
		return algorithm{name: name, kty: ktyOKP, crv: "Ed25519", method: jwt.SigningMethodEdDSA}, true
	}
	return algorithm{}, false
}

func pssMethod(name string, h crypto.Hash) *jwt.SigningMethodRSAPSS {
	opts := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
	return &jwt.SigningMethodRSAPSS{
		SigningMethodRSA: &jwt.SigningMethodRSA{Name: name, Hash: h},
		Options:          opts,
		VerifyOptions:    opts,
	}
}

// algorithmSet is the allow-list of a verifier, built once.
type algorithmSet map[string]algorithm

// newAlgorithmSet validates names against the supported algorithms. An empty
// list means every supported algorithm.
func newAlgorithmSet(names []string) (algorithmSet, error) {
	if len(names) == 0 {
		names = Algorithms()
	}
	set := make(algorithmSet, len(names))
	for _, n := range names {
		if strings.EqualFold(n, "none") {
			return nil, fmt.Errorf("%w: algorithm %q can never be allowed", ErrConfig, n)
		}
		a, ok := lookupAlgorithm(n)
		if !ok {
			return nil, fmt.Errorf("%w: unsupported algorithm %q (supported: %s)", ErrConfig, n, strings.Join(Algorithms(), ", "))
		}
		set[n] = a
	}
	return set, nil
}
