package token

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// Claims are the claims of a verified token. A Claims value may be shared
// by every caller that presents the same token (the verifier caches it), so
// it is immutable: accessors return copies.
//
// Numbers keep their JSON lexical form (json.Number), so a claim such as
// 27.50 prints back exactly as the issuer wrote it.
type Claims struct {
	m     map[string]any
	exp   time.Time
	keyID string
	alg   string
}

// Subject returns the sub claim, or "" when absent.
func (c *Claims) Subject() string { s, _ := c.m["sub"].(string); return s }

// Issuer returns the iss claim (always present in a verified token).
func (c *Claims) Issuer() string { s, _ := c.m["iss"].(string); return s }

// Audience returns the aud claim as a list, whether the token carried a
// string or an array.
func (c *Claims) Audience() []string { return stringOrList(c.m["aud"]) }

// ExpiresAt returns the exp claim (always present in a verified token).
func (c *Claims) ExpiresAt() time.Time { return c.exp }

// KeyID returns the kid of the key that verified the token, for logs.
func (c *Claims) KeyID() string { return c.keyID }

// Algorithm returns the JWS algorithm the token was signed with, for logs.
func (c *Claims) Algorithm() string { return c.alg }

// Get returns a copy of one claim: string, bool, json.Number, nil, []any or
// map[string]any, as decoded from the token.
func (c *Claims) Get(name string) (any, bool) {
	v, ok := c.m[name]
	return deepCopy(v), ok
}

// Names returns the claim names, sorted.
func (c *Claims) Names() []string { return slices.Sorted(maps.Keys(c.m)) }

// MarshalJSON encodes the claims as a JSON object with sorted member names,
// numbers in their original lexical form and no HTML escaping.
func (c *Claims) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c.m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// stringOrList reads a StringOrURI-or-array claim; non-strings are skipped.
func stringOrList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	}
	return v
}
