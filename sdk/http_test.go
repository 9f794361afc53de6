package sdk_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/sdk"
)

const (
	billingID = "spiffe://example.org/ns/prod/sa/billing"
	webID     = "spiffe://example.org/ns/prod/sa/web"
)

var quiet = slog.New(slog.DiscardHandler)

// echo answers what the PEP put in the context, so tests see the handler's
// view of the decision and the claims.
func echo(w http.ResponseWriter, r *http.Request) {
	out := map[string]any{}
	if d, ok := sdk.DecisionFromContext(r.Context()); ok {
		out["effect"] = d.Effect
		out["decision_id"] = d.ID
		var obs []string
		for _, o := range d.Obligations {
			obs = append(obs, o.ID)
		}
		out["obligations"] = obs
	}
	if c, ok := sdk.ClaimsFromContext(r.Context()); ok {
		out["sub"] = c.Subject()
	}
	_ = json.NewEncoder(w).Encode(out)
}

// routesMux registers the routes of testdata/routes.yaml, each wrapped by
// protect, so that the middleware sees the ServeMux pattern.
func routesMux(protect func(http.Handler) http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	for _, pattern := range []string{"GET /todos/{id}", "/todos/{id}", "/whoami", "POST /admin", "/files/{path...}", "/audited", "/time"} {
		mux.Handle(pattern, protect(http.HandlerFunc(echo)))
	}
	return mux
}

func startTLS(t *testing.T, h http.Handler, ca *pki) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = ca.serverTLS(t)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func httpClient(t *testing.T, ca *pki, spiffeID string) *http.Client {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: ca.clientTLS(t, spiffeID), ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

type httpCase struct {
	name      string
	method    string
	path      string
	auth      []string // Authorization header values
	client    string   // client certificate SPIFFE ID, "" for none
	status    int
	challenge string // expected WWW-Authenticate
	sub       string // expected subject seen by the handler
}

func runHTTPCases(t *testing.T, srv *httptest.Server, ca *pki, cases []httpCase) {
	t.Helper()
	clients := map[string]*http.Client{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, ok := clients[c.client]
			if !ok {
				cl = httpClient(t, ca, c.client)
				clients[c.client] = cl
			}
			method := c.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range c.auth {
				req.Header.Add("Authorization", a)
			}
			resp, err := cl.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, strings.TrimSpace(string(body)), c.status)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != c.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, c.challenge)
			}
			if c.status != http.StatusOK {
				return
			}
			var out struct {
				Effect string `json:"effect"`
				Sub    string `json:"sub"`
			}
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatal(err)
			}
			if out.Effect != string(pdp.EffectPermit) || out.Sub != c.sub {
				t.Errorf("handler saw effect %q sub %q, want Permit and %q", out.Effect, out.Sub, c.sub)
			}
		})
	}
}

// TestMiddleware protects real routes on a TLS server (client certificates
// optional) with JWTs signed by a test issuer: every attribute of DESIGN.md's
// HTTP row reaches the policy.
func TestMiddleware(t *testing.T) {
	ca, iss := newPKI(t), newIssuer(t)
	p := mustNew(t, sdk.WithPolicy(routesPolicy(t)), sdk.WithTokenVerifier(iss.verifier(t)), sdk.WithLogger(quiet))
	srv := startTLS(t, routesMux(sdk.Middleware(p, sdk.WithLogger(quiet), sdk.WithObligations("urn:example:obligation:audit"))), ca)

	bearer := func(sub string, claims map[string]any) []string {
		return []string{"Bearer " + iss.sign(t, sub, claims)}
	}
	reader := bearer("alice", map[string]any{"scope": "todos:write todos:read"})
	tampered := reader[0][:len(reader[0])-6] + "AAAAAA"
	expired := "Bearer " + iss.sign(t, "alice", map[string]any{"scope": "todos:read", "exp": time.Now().Add(-time.Hour).Unix()})
	invalid := `Bearer error="invalid_token"`

	runHTTPCases(t, srv, ca, []httpCase{
		{name: "scope grants the route pattern", path: "/todos/42", auth: reader, status: 200, sub: "alice"},
		{name: "lower-case scheme", path: "/todos/42", auth: []string{"bearer " + strings.TrimPrefix(reader[0], "Bearer ")}, status: 200, sub: "alice"},
		{name: "method is the action", method: http.MethodDelete, path: "/todos/42", auth: reader, status: 403},
		{name: "missing scope", path: "/todos/42", auth: bearer("alice", map[string]any{"scope": "todos:write"}), status: 403},
		{name: "anonymous", path: "/todos/42", status: 403},
		{name: "tampered token", path: "/todos/42", auth: []string{tampered}, status: 401, challenge: invalid},
		{name: "expired token", path: "/todos/42", auth: []string{expired}, status: 401, challenge: invalid},
		{name: "empty bearer", path: "/todos/42", auth: []string{"Bearer "}, status: 401, challenge: invalid},
		{name: "two authorization headers", path: "/todos/42", auth: append(reader, reader...), status: 401, challenge: invalid},
		{name: "other scheme is anonymous", path: "/files/public/a", auth: []string{"Basic YWxpY2U6cHc="}, status: 200},
		{name: "sub is subject-id", path: "/whoami", auth: bearer("alice", nil), status: 200, sub: "alice"},
		{name: "another subject", path: "/whoami", auth: bearer("bob", nil), status: 403},
		{name: "path prefix", path: "/files/public/report.pdf", status: 200},
		{name: "path outside prefix", path: "/files/private/report.pdf", status: 403},
		{name: "workload from client certificate", method: http.MethodPost, path: "/admin", client: billingID, status: 200},
		{name: "another workload", method: http.MethodPost, path: "/admin", client: webID, status: 403},
		{name: "no client certificate", method: http.MethodPost, path: "/admin", status: 403},
		{name: "declared obligation", path: "/audited", status: 200},
		{name: "time is a dateTime", path: "/time", status: 200},
	})
}

// serve runs one request through h in memory, for the PEP's own logic
// (the TLS paths are covered by TestMiddleware).
func serve(h http.Handler, method, path string, auth ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for _, a := range auth {
		r.Header.Add("Authorization", a)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddlewareObligations(t *testing.T) {
	p := mustNew(t, sdk.WithPolicy(routesPolicy(t)), sdk.WithLogger(quiet))
	var fulfilled int
	handler := func(err error) sdk.ObligationHandler {
		return func(_ context.Context, o pdp.Obligation) error {
			if len(o.Assignments) != 1 || o.Assignments[0].Value != "audited route" {
				t.Errorf("obligation handler got %+v", o)
			}
			fulfilled++
			return err
		}
	}
	const audit = "urn:example:obligation:audit"
	for _, c := range []struct {
		name   string
		opt    sdk.PEPOption
		status int
		calls  int
	}{
		{"undeclared", nil, 403, 0},
		{"declared for the handler", sdk.WithObligations(audit), 200, 0},
		{"fulfilled by the PEP", sdk.WithObligationHandler(audit, handler(nil)), 200, 1},
		{"failing", sdk.WithObligationHandler(audit, handler(errors.New("audit log down"))), 403, 1},
	} {
		fulfilled = 0
		h := sdk.Middleware(p, sdk.WithLogger(quiet), c.opt)(http.HandlerFunc(echo))
		if w := serve(h, http.MethodGet, "/audited"); w.Code != c.status || fulfilled != c.calls {
			t.Errorf("%s: status %d with %d handler calls, want %d with %d", c.name, w.Code, fulfilled, c.status, c.calls)
		}
	}
}

func TestMiddlewareOptions(t *testing.T) {
	ca, iss := newPKI(t), newIssuer(t)
	p := mustNew(t, sdk.WithPolicy(routesPolicy(t)), sdk.WithLogger(quiet))
	reader := "Bearer " + iss.sign(t, "alice", map[string]any{"scope": "todos:read"})
	h := func(opts ...sdk.PEPOption) func(http.Handler) http.Handler {
		return sdk.Middleware(p, append([]sdk.PEPOption{sdk.WithLogger(quiet), sdk.WithTokenVerifier(iss.verifier(t))}, opts...)...)
	}

	t.Run("whole mux with WithServeMux", func(t *testing.T) {
		mux := http.NewServeMux()
		mux.HandleFunc("GET /todos/{id}", echo)
		if w := serve(h(sdk.WithServeMux(mux))(mux), http.MethodGet, "/todos/42", reader); w.Code != 200 {
			t.Errorf("status %d, want 200 (route /todos/{id})", w.Code)
		}
		// Without it the middleware runs before routing: the path is the id.
		if w := serve(h()(mux), http.MethodGet, "/todos/42", reader); w.Code != 403 {
			t.Errorf("status %d, want 403 (route unknown, id = path)", w.Code)
		}
	})
	t.Run("WithRoute", func(t *testing.T) {
		route := sdk.WithRoute(func(r *http.Request) string { return "/todos/{id}" })
		if w := serve(h(route)(http.HandlerFunc(echo)), http.MethodGet, "/anything", reader); w.Code != 200 {
			t.Errorf("status %d, want 200", w.Code)
		}
	})
	t.Run("RequireToken", func(t *testing.T) {
		w := serve(h(sdk.RequireToken())(http.HandlerFunc(echo)), http.MethodGet, "/files/public/a")
		if w.Code != 401 || w.Header().Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("status %d challenge %q, want 401 Bearer", w.Code, w.Header().Get("WWW-Authenticate"))
		}
	})
	t.Run("RequireToken without a verifier", func(t *testing.T) {
		mw := sdk.Middleware(p, sdk.WithLogger(quiet), sdk.RequireToken())
		if w := serve(mw(http.HandlerFunc(echo)), http.MethodGet, "/files/public/a", reader); w.Code != 401 {
			t.Errorf("status %d, want 401", w.Code)
		}
	})
	t.Run("no verifier ignores the token", func(t *testing.T) {
		mw := sdk.Middleware(p, sdk.WithLogger(quiet))
		if w := serve(mw(http.HandlerFunc(echo)), http.MethodGet, "/whoami", "Bearer "+iss.sign(t, "alice", nil)); w.Code != 403 {
			t.Errorf("status %d, want 403: an unverified token must not count", w.Code)
		}
	})
	t.Run("WithClock", func(t *testing.T) {
		for year, want := range map[int]int{2019: 403, 2021: 200} {
			clock := sdk.WithClock(func() time.Time { return time.Date(year, 6, 1, 0, 0, 0, 0, time.UTC) })
			if w := serve(h(clock)(http.HandlerFunc(echo)), http.MethodGet, "/time"); w.Code != want {
				t.Errorf("%d: status %d, want %d", year, w.Code, want)
			}
		}
	})
	t.Run("WithDenyHandler", func(t *testing.T) {
		deny := sdk.WithDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d, ok := sdk.DecisionFromContext(r.Context())
			if !ok || d.Effect == pdp.EffectPermit {
				t.Errorf("deny handler saw %v", d)
			}
			w.WriteHeader(http.StatusTeapot)
		}))
		if w := serve(h(deny)(http.HandlerFunc(echo)), http.MethodGet, "/secret"); w.Code != http.StatusTeapot {
			t.Errorf("status %d, want 418", w.Code)
		}
	})
	t.Run("WithHTTPAttributes", func(t *testing.T) {
		grant := sdk.WithHTTPAttributes(func(r *http.Request, req *pdp.Request) error {
			req.Add(pdp.CategorySubject, "scope", str("todos:read"))
			return nil
		})
		route := sdk.WithRoute(func(*http.Request) string { return "/todos/{id}" })
		if w := serve(h(grant, route)(http.HandlerFunc(echo)), http.MethodGet, "/todos/1"); w.Code != 200 {
			t.Errorf("status %d, want 200", w.Code)
		}
		broken := sdk.WithHTTPAttributes(func(*http.Request, *pdp.Request) error { return errors.New("owner lookup failed") })
		if w := serve(h(broken)(http.HandlerFunc(echo)), http.MethodGet, "/files/public/a"); w.Code != 403 {
			t.Errorf("status %d, want 403 when attributes cannot be built", w.Code)
		}
	})
	t.Run("fails closed", func(t *testing.T) {
		closed, err := sdk.New(t.Context(), sdk.WithPolicy(routesPolicy(t)), sdk.WithLogger(quiet))
		if err != nil {
			t.Fatal(err)
		}
		_ = closed.Close()
		mw := sdk.Middleware(closed, sdk.WithLogger(quiet))
		w := serve(mw(http.HandlerFunc(echo)), http.MethodGet, "/files/public/a")
		if w.Code != 403 || !strings.Contains(w.Body.String(), "decision ") {
			t.Errorf("closed PDP: status %d body %q, want 403 naming the decision", w.Code, w.Body.String())
		}
	})
	t.Run("unverified client certificate is no identity", func(t *testing.T) {
		// The server asks for a certificate but does not verify it: a
		// workload could claim any SPIFFE ID.
		srv := httptest.NewUnstartedServer(routesMux(sdk.Middleware(p, sdk.WithLogger(quiet))))
		srv.TLS = ca.serverTLS(t)
		srv.TLS.ClientAuth = tls.RequireAnyClientCert
		srv.StartTLS()
		defer srv.Close()
		impostor := newPKI(t)
		cfg := impostor.clientTLS(t, billingID)
		cfg.RootCAs = ca.caPool
		cl := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
		resp, err := cl.Post(srv.URL+"/admin", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("status %d, want 403", resp.StatusCode)
		}
	})
}
