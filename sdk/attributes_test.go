package sdk_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/sdk"
)

type attr struct {
	cat, id string
	vals    []pdp.Value
}

func checkAttrs(t *testing.T, req *pdp.Request, want []attr) {
	t.Helper()
	n := 0
	for _, a := range req.Attributes {
		n += len(a.Values)
	}
	m := 0
	for _, w := range want {
		m += len(w.vals)
		if got := req.Get(w.cat, w.id); !slices.Equal(got, w.vals) {
			t.Errorf("%s %s = %v, want %v", w.cat, w.id, got, w.vals)
		}
	}
	if n != m {
		t.Errorf("request has %d values, want %d: %+v", n, m, req.Attributes)
	}
}

// verifiedState is the TLS state of a connection whose client certificate
// was verified and carries uris.
func verifiedState(uris ...string) *tls.ConnectionState {
	leaf := &x509.Certificate{}
	for _, s := range uris {
		u, _ := url.Parse(s)
		leaf.URIs = append(leaf.URIs, u)
	}
	return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}, VerifiedChains: [][]*x509.Certificate{{leaf}}}
}

func TestNewHTTPRequest(t *testing.T) {
	now := time.Date(2025, 3, 4, 5, 6, 7, 8000, time.FixedZone("CET", 3600))
	r := httptest.NewRequest(http.MethodPatch, "https://todo.example.com/todos/42?x=1", nil)
	r.TLS = verifiedState("https://not-a-spiffe-id.example.com", webID)
	checkAttrs(t, sdk.NewHTTPRequest(r, "/todos/{id}", now), []attr{
		{pdp.CategoryAction, "name", []pdp.Value{str("PATCH")}},
		{pdp.CategoryResource, "type", []pdp.Value{str("route")}},
		{pdp.CategoryResource, "id", []pdp.Value{str("/todos/{id}")}},
		{pdp.CategoryResource, "path", []pdp.Value{str("/todos/42")}},
		{pdp.CategoryEnvironment, "time", []pdp.Value{{Type: "dateTime", Lexical: "2025-03-04T04:06:07.000008Z"}}},
		{pdp.CategorySubject, "workload", []pdp.Value{str(webID)}},
	})
	// No route known: the path is the id. Unverified certificate: no workload.
	r.TLS.VerifiedChains = nil
	req := sdk.NewHTTPRequest(r, "", now)
	if got := req.Get(pdp.CategoryResource, "id"); !slices.Equal(got, []pdp.Value{str("/todos/42")}) {
		t.Errorf("id = %v, want the path", got)
	}
	if got := req.Get(pdp.CategorySubject, "workload"); got != nil {
		t.Errorf("workload from an unverified certificate: %v", got)
	}
}

func TestWorkloadID(t *testing.T) {
	for name, c := range map[string]struct {
		state *tls.ConnectionState
		want  string
	}{
		"plaintext":        {nil, ""},
		"one SPIFFE ID":    {verifiedState(billingID), billingID},
		"two SPIFFE IDs":   {verifiedState(billingID, webID), ""},
		"no URI SAN":       {verifiedState(), ""},
		"presented only":   {&tls.ConnectionState{PeerCertificates: verifiedState(billingID).PeerCertificates}, ""},
		"other URI scheme": {verifiedState("https://example.org/billing"), ""},
	} {
		got, ok := sdk.WorkloadID(c.state)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: WorkloadID = %q, %t; want %q", name, got, ok, c.want)
		}
	}
}

func TestRoutePattern(t *testing.T) {
	mux := http.NewServeMux()
	for _, p := range []string{"GET /todos/{id}", "todo.example.com/admin/", "POST todo.example.com/upload", "/files/{path...}"} {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	for target, want := range map[string]string{
		"http://x/todos/1":                   "/todos/{id}",
		"http://todo.example.com/admin/x":    "todo.example.com/admin/",
		"http://x/files/a/b":                 "/files/{path...}",
		"http://todo.example.com/nothing-at": "",
	} {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		_, r.Pattern = mux.Handler(r)
		if got := sdk.RoutePattern(r); got != want {
			t.Errorf("GET %s: RoutePattern = %q, want %q", target, got, want)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "http://todo.example.com/upload", nil)
	_, r.Pattern = mux.Handler(r)
	if got := sdk.RoutePattern(r); got != "todo.example.com/upload" {
		t.Errorf("POST with host pattern: RoutePattern = %q", got)
	}
}

func TestNewRPCRequest(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	checkAttrs(t, sdk.NewRPCRequest("/acme.orders.v1.Orders/Get", verifiedState(billingID), now), []attr{
		{pdp.CategoryAction, "name", []pdp.Value{str("/acme.orders.v1.Orders/Get")}},
		{pdp.CategoryResource, "type", []pdp.Value{str("rpc")}},
		{pdp.CategoryResource, "id", []pdp.Value{str("acme.orders.v1.Orders/Get")}},
		{pdp.CategoryEnvironment, "time", []pdp.Value{{Type: "dateTime", Lexical: "2025-01-01T00:00:00Z"}}},
		{pdp.CategorySubject, "workload", []pdp.Value{str(billingID)}},
	})
}

func TestAddClaims(t *testing.T) {
	iss := newIssuer(t)
	raw := iss.sign(t, "alice", map[string]any{
		"scope":        "todos:read  todos:write",
		"groups":       []any{"eng", "ops"},
		"realm_access": map[string]any{"roles": []any{"admin"}},
		"level":        3,
		"verified":     true,
	})
	claims, err := iss.verifier(t).Verify(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	req := &pdp.Request{}
	if err := sdk.AddClaims(req, claims); err != nil {
		t.Fatal(err)
	}
	for _, w := range []attr{
		{pdp.CategorySubject, "sub", []pdp.Value{str("alice")}},
		{pdp.CategorySubject, "urn:oasis:names:tc:xacml:1.0:subject:subject-id", []pdp.Value{str("alice")}},
		{pdp.CategorySubject, "scope", []pdp.Value{str("todos:read"), str("todos:write")}},
		{pdp.CategorySubject, "groups", []pdp.Value{str("eng"), str("ops")}},
		{pdp.CategorySubject, "realm_access.roles", []pdp.Value{str("admin")}},
		{pdp.CategorySubject, "level", []pdp.Value{{Type: "integer", Lexical: "3", Untyped: true}}},
		{pdp.CategorySubject, "verified", []pdp.Value{{Type: "boolean", Lexical: "true", Untyped: true}}},
		{pdp.CategorySubject, "iss", []pdp.Value{str(testIssuer)}},
		{pdp.CategorySubject, "aud", []pdp.Value{str(testAudience)}},
	} {
		if got := req.Get(w.cat, w.id); !slices.Equal(got, w.vals) {
			t.Errorf("%s = %v, want %v", w.id, got, w.vals)
		}
	}
	if exp := req.Get(pdp.CategorySubject, "exp"); len(exp) != 1 || exp[0].Type != "integer" {
		t.Errorf("exp = %v, want one integer", exp)
	}
}
