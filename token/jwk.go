package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"slices"
)

// RSA modulus bounds for signature keys. 2048 bits is the NIST SP 800-57
// floor for RSA signatures; Wycheproof expects 1024-bit keys to be refused.
// The upper bound keeps a hostile or broken key set from making every
// verification expensive.
const (
	MinRSABits = 2048
	MaxRSABits = 8192
)

// Key is one verification key of a key set, validated once when the set is
// parsed. A Key that failed validation stays in its set (so that a token
// naming it gets a precise reason instead of "unknown kid"); Err tells why it
// can verify nothing.
type Key struct {
	id         string
	kty        string
	crv        string
	alg        string
	public     any // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey or []byte (oct)
	thumbprint string
	unusable   error
}

// ID returns the key's kid ("" when the JWK has none).
func (k *Key) ID() string { return k.id }

// Type returns the JWK kty: "RSA", "EC", "OKP" or "oct".
func (k *Key) Type() string { return k.kty }

// Algorithm returns the JWK alg the key is bound to, or "" when the JWK has
// none and the key type alone decides which algorithms it verifies.
func (k *Key) Algorithm() string { return k.alg }

// Thumbprint returns the RFC 7638 SHA-256 thumbprint (base64url), which
// identifies the key material independently of its kid; caches use it to
// notice a key that was rotated out.
func (k *Key) Thumbprint() string { return k.thumbprint }

// Err returns nil for a usable key and otherwise why the key can verify no
// token; the error wraps ErrInvalidKey.
func (k *Key) Err() error { return k.unusable }

// fail marks the key unusable and returns it.
func (k *Key) fail(format string, args ...any) *Key {
	k.unusable = fmt.Errorf("%w: key %s: %s", ErrInvalidKey, quote(k.id), fmt.Sprintf(format, args...))
	return k
}

// accepts checks that the key may verify a signature made with a. This is
// where the algorithm is bound to the key: a JWK alg, when present, is the
// only algorithm accepted, and otherwise the key type and curve must be the
// ones a requires. The token header's alg alone never selects how a key is
// used.
func (k *Key) accepts(a algorithm) error {
	if k.unusable != nil {
		return k.unusable
	}
	if k.alg != "" && k.alg != a.name {
		return fmt.Errorf("%w: key %s accepts only %s, token header says %s", ErrAlgorithm, quote(k.id), quote(k.alg), a.name)
	}
	if k.kty != a.kty {
		return fmt.Errorf("%w: %s needs a %s key, key %s is %s", ErrAlgorithm, a.name, a.kty, quote(k.id), k.kty)
	}
	if a.crv != "" && k.crv != a.crv {
		return fmt.Errorf("%w: %s needs curve %s, key %s is on %s", ErrAlgorithm, a.name, a.crv, quote(k.id), k.crv)
	}
	if secret, ok := k.public.([]byte); ok && len(secret) < a.size {
		return fmt.Errorf("%w: key %s: HMAC secret of %d bits is shorter than the %d bits %s requires", ErrInvalidKey, quote(k.id), 8*len(secret), 8*a.size, a.name)
	}
	return nil
}

// parseJWK validates one JWK (RFC 7517/7518). It always returns a Key; a key
// that fails validation carries the reason in Err.
func parseJWK(m map[string]any) *Key {
	k := &Key{}
	var err error
	if k.id, _, err = stringMember(m, "kid"); err != nil {
		return k.fail("%v", err)
	}
	var ok bool
	if k.kty, ok, err = stringMember(m, "kty"); err != nil || !ok {
		return k.fail("kty missing or not a string")
	}
	if k.alg, _, err = stringMember(m, "alg"); err != nil {
		return k.fail("%v", err)
	}
	if use, ok, err := stringMember(m, "use"); err != nil {
		return k.fail("%v", err)
	} else if ok && use != "sig" {
		return k.fail("use is %s, not \"sig\"", quote(use))
	}
	if ops, ok := m["key_ops"]; ok {
		list, isList := ops.([]any)
		if !isList || !slices.Contains(list, any("verify")) {
			return k.fail("key_ops does not include \"verify\"")
		}
	}
	switch k.kty {
	case ktyRSA:
		parseRSA(k, m)
	case ktyEC:
		parseEC(k, m)
	case ktyOKP:
		parseOKP(k, m)
	case ktyOct:
		parseOct(k, m)
	default:
		return k.fail("unsupported kty %s", quote(k.kty))
	}
	if k.unusable != nil {
		return k
	}
	// A known alg must fit the key. An alg this package does not implement
	// (ES521, RSA1_5, A256GCM...) leaves the key bound to it, so every token
	// is refused with ErrAlgorithm.
	if a, known := lookupAlgorithm(k.alg); known {
		switch {
		case a.kty != k.kty:
			return k.fail("alg %s does not fit kty %s", a.name, k.kty)
		case a.crv != "" && a.crv != k.crv:
			return k.fail("alg %s needs curve %s, key is on %s", a.name, a.crv, k.crv)
		case k.kty == ktyOct && len(k.public.([]byte)) < a.size:
			return k.fail("HMAC secret of %d bits is shorter than the %d bits %s requires", 8*len(k.public.([]byte)), 8*a.size, a.name)
		}
	}
	return k
}

// hasPrivate reports the first of names present in m. The names are the JWK
// members holding private key material (RFC 7518 section 6): a verifier never
// needs them, and a key published with them must be considered compromised.
func hasPrivate(m map[string]any, names ...string) (string, bool) {
	for _, n := range names {
		if _, ok := m[n]; ok {
			return n, true
		}
	}
	return "", false
}

func parseRSA(k *Key, m map[string]any) {
	if name, ok := hasPrivate(m, "d", "p", "q", "dp", "dq", "qi", "oth"); ok {
		k.fail("private member %q in a verification key", name)
		return
	}
	nb, err := bytesMember(m, "n")
	if err != nil {
		k.fail("%v", err)
		return
	}
	eb, err := bytesMember(m, "e")
	if err != nil {
		k.fail("%v", err)
		return
	}
	n := new(big.Int).SetBytes(nb)
	e := new(big.Int).SetBytes(eb)
	switch bits := n.BitLen(); {
	case bits < MinRSABits:
		k.fail("RSA modulus has %d bits, minimum is %d", bits, MinRSABits)
		return
	case bits > MaxRSABits:
		k.fail("RSA modulus has %d bits, maximum is %d", bits, MaxRSABits)
		return
	case n.Bit(0) == 0:
		k.fail("RSA modulus is even")
		return
	}
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
		k.fail("RSA public exponent must be odd and in [3, 2^31-1]")
		return
	}
	if roca, small := rocaFingerprint(n); small {
		k.fail("RSA modulus has a small prime factor")
		return
	} else if roca {
		k.fail("RSA modulus has the ROCA fingerprint (CVE-2017-15361)")
		return
	}
	k.public = &rsa.PublicKey{N: n, E: int(e.Int64())}
	k.thumbprint = thumbprint(`{"e":%q,"kty":"RSA","n":%q}`, m["e"], m["n"])
}

func parseEC(k *Key, m map[string]any) {
	if _, ok := hasPrivate(m, "d"); ok {
		k.fail("private member \"d\" in a verification key")
		return
	}
	var ok bool
	var err error
	if k.crv, ok, err = stringMember(m, "crv"); err != nil || !ok {
		k.fail("crv missing or not a string")
		return
	}
	var curve elliptic.Curve
	var size int
	switch k.crv {
	case "P-256":
		curve, size = elliptic.P256(), 32
	case "P-384":
		curve, size = elliptic.P384(), 48
	case "P-521":
		curve, size = elliptic.P521(), 66
	default:
		k.fail("unsupported EC curve %s", quote(k.crv))
		return
	}
	x, err := bytesMember(m, "x")
	if err != nil {
		k.fail("%v", err)
		return
	}
	y, err := bytesMember(m, "y")
	if err != nil {
		k.fail("%v", err)
		return
	}
	// RFC 7518 section 6.2.1.2: coordinates are the full field size.
	if len(x) != size || len(y) != size {
		k.fail("EC coordinates must be %d bytes on %s", size, k.crv)
		return
	}
	point := make([]byte, 0, 1+2*size)
	point = append(append(append(point, 4), x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
	if err != nil {
		k.fail("EC point is not on %s", k.crv)
		return
	}
	k.public = pub
	k.thumbprint = thumbprint(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, k.crv, m["x"], m["y"])
}

func parseOKP(k *Key, m map[string]any) {
	if _, ok := hasPrivate(m, "d"); ok {
		k.fail("private member \"d\" in a verification key")
		return
	}
	var ok bool
	var err error
	if k.crv, ok, err = stringMember(m, "crv"); err != nil || !ok {
		k.fail("crv missing or not a string")
		return
	}
	if k.crv != "Ed25519" {
		k.fail("unsupported OKP curve %s", quote(k.crv))
		return
	}
	x, err := bytesMember(m, "x")
	if err != nil {
		k.fail("%v", err)
		return
	}
	if len(x) != ed25519.PublicKeySize {
		k.fail("Ed25519 public key must be %d bytes", ed25519.PublicKeySize)
		return
	}
	k.public = ed25519.PublicKey(x)
	k.thumbprint = thumbprint(`{"crv":"Ed25519","kty":"OKP","x":%q}`, m["x"])
}

func parseOct(k *Key, m map[string]any) {
	secret, err := bytesMember(m, "k")
	if err != nil {
		k.fail("%v", err)
		return
	}
	if len(secret) < 32 {
		k.fail("HMAC secret of %d bits is shorter than 256 bits", 8*len(secret))
		return
	}
	k.public = secret
	k.thumbprint = thumbprint(`{"k":%q,"kty":"oct"}`, m["k"])
}

// thumbprint hashes the RFC 7638 canonical JSON of the required members.
// The member values are base64url strings (or curve names), which %q quotes
// exactly as JSON does.
func thumbprint(format string, args ...any) string {
	sum := sha256.Sum256(fmt.Appendf(nil, format, args...))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// stringMember returns m[name] when it is a string; present reports whether
// the member exists at all.
func stringMember(m map[string]any, name string) (value string, present bool, err error) {
	v, ok := m[name]
	if !ok {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", true, fmt.Errorf("%s is not a string", name)
	}
	return s, true, nil
}

// bytesMember decodes the required base64url member name.
func bytesMember(m map[string]any, name string) ([]byte, error) {
	s, ok, err := stringMember(m, name)
	if err != nil {
		return nil, err
	}
	if !ok || s == "" {
		return nil, fmt.Errorf("%s missing or empty", name)
	}
	b, err := decodeBase64URL(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b, nil
}
