package token

import (
	"context"
	"crypto/elliptic"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestAttributes(t *testing.T) {
	ec := newECTestKey(t, "ec", "ES256", elliptic.P256())
	v := newTestVerifier(t, mustParseJWKS(t, ec))
	payload := `{
		"iss": "` + testIssuer + `",
		"aud": ["` + testAudience + `", "api://other"],
		"sub": "alice",
		"exp": 1893557045,
		"scope": "orders:read  orders:write ",
		"scp": ["a", "b"],
		"admin": true,
		"level": 42,
		"price": 27.50,
		"ratio": 1e3,
		"big": 9223372036854775808,
		"negative": -7,
		"nothing": null,
		"none": [],
		"nested": [["x"], ["y", 1]],
		"realm_access": {"roles": ["editor", "viewer"], "active": false},
		"address": {"geo": {"lat": 1.5}}
	}`
	tok := signRaw(t, []byte(`{"alg":"ES256","kid":"ec"}`), []byte(payload), method(t, "ES256"), ec.priv)
	claims, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	got := claims.Attributes()
	want := map[string][]any{
		"iss":                 []any{testIssuer},
		"aud":                 []any{testAudience, "api://other"},
		"sub":                 []any{"alice"},
		SubjectIDAttribute:    []any{"alice"},
		"exp":                 []any{int64(1893557045)},
		"scope":               []any{"orders:read", "orders:write"},
		"scp":                 []any{"a", "b"},
		"admin":               []any{true},
		"level":               []any{int64(42)},
		"price":               []any{json.Number("27.50")},
		"ratio":               []any{json.Number("1e3")},
		"big":                 []any{json.Number("9223372036854775808")},
		"negative":            []any{int64(-7)},
		"nested":              []any{"x", "y", int64(1)},
		"realm_access.roles":  []any{"editor", "viewer"},
		"realm_access.active": []any{false},
		"address.geo.lat":     []any{json.Number("1.5")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("attributes:\n got %#v\nwant %#v", got, want)
	}
	// The caller owns the result: changing it changes nothing for others.
	got["sub"][0] = "mallory"
	if again := claims.Attributes(); again["sub"][0] != "alice" {
		t.Error("Attributes shares its slices between calls")
	}

	// Lexical forms survive a round trip through the claims' JSON.
	out, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	for _, lit := range []string{`"price":27.50`, `"ratio":1e3`, `"big":9223372036854775808`, `"nothing":null`} {
		if !strings.Contains(string(out), lit) {
			t.Errorf("claims JSON %s lacks %s", out, lit)
		}
	}

	if claims.Subject() != "alice" || claims.Issuer() != testIssuer || !reflect.DeepEqual(claims.Audience(), []string{testAudience, "api://other"}) {
		t.Errorf("accessors: %q %q %q", claims.Subject(), claims.Issuer(), claims.Audience())
	}
	if claims.KeyID() != "ec" || claims.Algorithm() != "ES256" || claims.ExpiresAt().Unix() != 1893557045 {
		t.Errorf("accessors: %q %q %v", claims.KeyID(), claims.Algorithm(), claims.ExpiresAt())
	}
	ra, _ := claims.Get("realm_access")
	ra.(map[string]any)["roles"] = "admin"
	if ra2, _ := claims.Get("realm_access"); reflect.DeepEqual(ra, ra2) {
		t.Error("Get returned shared state")
	}
	if names := claims.Names(); names[0] != "address" || len(names) != 17 {
		t.Errorf("names %v", names)
	}
}

func TestAudiencePatterns(t *testing.T) {
	cases := []struct {
		pattern string
		aud     string
		match   bool
	}{
		{"*.example.com", "api.example.com", true},
		{"*.example.com", "a-b_c.example.com", true},
		{"*.example.com", "eu.api.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", ".example.com", false},
		{"*.example.com", "api.example.com.evil", false},
		{"*.example.com", "evil.com/x.example.com", false},
		{"*.example.com", "user@x.example.com", false},
		{"*.example.com", "api.exampleXcom", false},
		{"*.example.com", "API.EXAMPLE.COM", false},
		{"https://*.example.com/api", "https://eu.example.com/api", true},
		{"https://*.example.com/api", "https://evil.com#.example.com/api", false},
		{"api://orders", "api://orders", true},
		{"api://orders", "api://orders/", false},
	}
	for _, c := range cases {
		m, err := newAudienceMatcher([]string{c.pattern})
		if err != nil {
			t.Fatal(err)
		}
		if got := m.match(c.aud); got != c.match {
			t.Errorf("%q vs %q: got %v", c.pattern, c.aud, got)
		}
	}
	for _, bad := range [][]string{nil, {""}, {"*"}, {"**"}} {
		if _, err := newAudienceMatcher(bad); err == nil {
			t.Errorf("audiences %q accepted", bad)
		}
	}
}
