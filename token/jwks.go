package token

import (
	"context"
	"fmt"
)

// Key set bounds. A JWKS is small (a handful of keys); the limits keep a
// hostile or broken endpoint from costing memory or CPU.
const (
	MaxKeySetSize = 1 << 20 // bytes of JSON
	MaxKeys       = 64
)

// JWKS is an immutable, validated JSON Web Key Set. It is also a KeySource
// that never changes, for keys read once from a file or embedded in a test.
type JWKS struct {
	keys      []*Key
	byID      map[string]*Key
	symmetric bool
}

// ParseJWKS parses and validates a JWK Set document ({"keys": [...]}) or a
// single JWK, which is treated as a set of one.
//
// The set as a whole is refused (ErrInvalidKeySet) when it is not a JSON
// object, has more than MaxKeys keys, holds two keys with the same kid, or
// mixes symmetric (oct) keys with asymmetric ones: such sets are ambiguous
// or the result of a publishing mistake. A single key that fails validation
// does not refuse the set: it stays, unusable, and a token naming it is
// rejected with the reason (Key.Err).
func ParseJWKS(data []byte) (*JWKS, error) {
	if len(data) > MaxKeySetSize {
		return nil, fmt.Errorf("%w: %d bytes exceeds the %d-byte limit", ErrInvalidKeySet, len(data), MaxKeySetSize)
	}
	doc, err := decodeObject(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidKeySet, err)
	}
	var raw []any
	if v, ok := doc["keys"]; ok {
		if raw, ok = v.([]any); !ok {
			return nil, fmt.Errorf("%w: \"keys\" is not an array", ErrInvalidKeySet)
		}
	} else if _, ok := doc["kty"]; ok {
		raw = []any{doc}
	} else {
		return nil, fmt.Errorf("%w: neither a JWK Set (no \"keys\") nor a JWK (no \"kty\")", ErrInvalidKeySet)
	}
	if len(raw) > MaxKeys {
		return nil, fmt.Errorf("%w: %d keys exceeds the limit of %d", ErrInvalidKeySet, len(raw), MaxKeys)
	}
	set := &JWKS{byID: make(map[string]*Key, len(raw))}
	asymmetric := false
	for i, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: keys[%d] is not an object", ErrInvalidKeySet, i)
		}
		k := parseJWK(m)
		switch k.kty {
		case ktyOct:
			set.symmetric = true
		case ktyRSA, ktyEC, ktyOKP:
			asymmetric = true
		}
		if k.id != "" {
			if _, dup := set.byID[k.id]; dup {
				return nil, fmt.Errorf("%w: duplicate kid %s", ErrInvalidKeySet, quote(k.id))
			}
			set.byID[k.id] = k
		}
		set.keys = append(set.keys, k)
	}
	if set.symmetric && asymmetric {
		return nil, fmt.Errorf("%w: symmetric (oct) keys mixed with asymmetric keys", ErrInvalidKeySet)
	}
	return set, nil
}

// Keys returns the keys of the set, usable or not, in document order.
func (s *JWKS) Keys() []*Key { return append([]*Key(nil), s.keys...) }

// Symmetric reports whether the set holds HMAC (oct) secrets, which must
// never come from a place an attacker could read, such as a public URL.
func (s *JWKS) Symmetric() bool { return s.symmetric }

// Current implements KeySource: a parsed set never changes.
func (s *JWKS) Current(context.Context) (*JWKS, error) { return s, nil }

// Refresh implements KeySource: there is nothing to refresh from, so the
// same set is returned and an unknown kid stays unknown.
func (s *JWKS) Refresh(context.Context) (*JWKS, error) { return s, nil }

// lookup selects the key a token names. A token without kid is accepted
// only when the set holds exactly one key, so that the choice is never a
// guess; a kid never matches a key that has none.
func (s *JWKS) lookup(kid string, hasKid bool) (*Key, error) {
	if !hasKid {
		if len(s.keys) == 1 {
			return s.keys[0], nil
		}
		return nil, fmt.Errorf("%w: token has no kid and the key set holds %d keys", ErrUnknownKey, len(s.keys))
	}
	if k, ok := s.byID[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("%w: kid %s", ErrUnknownKey, quote(kid))
}

// holds reports whether the set still contains key (same kid, same key
// material, same binding): a cached verification stays valid only while the
// key that made it is still published.
func (s *JWKS) holds(key *Key, kid string, hasKid bool) bool {
	cur, err := s.lookup(kid, hasKid)
	if err != nil {
		return false
	}
	return cur == key || (cur.unusable == nil && cur.thumbprint == key.thumbprint && cur.alg == key.alg)
}
