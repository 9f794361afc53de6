package token

import (
	"encoding/json"
	"strconv"
	"strings"
)

// SubjectIDAttribute is the XACML subject-id AttributeId. The sub claim is
// exposed under this name as well as under "sub", so that policies written
// against the standard identifier work with tokens unchanged.
const SubjectIDAttribute = "urn:oasis:names:tc:xacml:1.0:subject:subject-id"

// Attributes maps the claims to access-subject attributes as DESIGN.md's
// "Attributes" table says, as plain Go data the SDK turns into engine input
// (this package imports nothing else of Verdict's). Each attribute is a bag:
//
//   - every claim becomes an attribute named after the claim;
//   - sub is also SubjectIDAttribute;
//   - scope and scp, when strings, are split on whitespace into a bag (when
//     arrays, as some issuers send scp, their elements form the bag);
//   - an array becomes the bag of its elements (nested arrays are flattened);
//   - a JSON object has no XACML type: each of its members becomes an
//     attribute named "claim.member" (recursively), so Keycloak's
//     realm_access.roles is reachable as "realm_access.roles"; values that
//     land on the same name share one bag;
//   - null and empty arrays give no value (an empty bag).
//
// Value types: JSON string → string (xs:string), boolean → bool
// (xs:boolean), an integer literal (digits with an optional minus sign)
// that fits int64 → int64 (xs:integer). Every other number — fractions,
// exponents, integers beyond int64 — stays a json.Number holding the token's
// exact lexical form, so 27.50 prints back as 27.50; the SDK maps a
// json.Number with a fraction or exponent to xs:double and one without to
// xs:integer. No float64 is produced, so no precision is lost here.
//
// The returned map and slices are freshly allocated and belong to the caller.
func (c *Claims) Attributes() map[string][]any {
	out := make(map[string][]any, len(c.m)+1)
	for name, v := range c.m {
		if s, ok := v.(string); ok && (name == "scope" || name == "scp") {
			for _, f := range strings.Fields(s) {
				out[name] = append(out[name], f)
			}
			continue
		}
		addAttribute(out, name, v)
	}
	if sub, ok := c.m["sub"].(string); ok {
		out[SubjectIDAttribute] = append(out[SubjectIDAttribute], sub)
	}
	return out
}

func addAttribute(out map[string][]any, name string, v any) {
	switch x := v.(type) {
	case string, bool:
		out[name] = append(out[name], x)
	case json.Number:
		out[name] = append(out[name], numberValue(x))
	case []any:
		for _, e := range x {
			addAttribute(out, name, e)
		}
	case map[string]any:
		for k, e := range x {
			addAttribute(out, name+"."+k, e)
		}
	}
}

// numberValue turns an integer literal that fits int64 into an int64 and
// keeps every other number lexical.
func numberValue(n json.Number) any {
	s := string(n)
	if strings.ContainsAny(s, ".eE") {
		return n
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	return n
}
