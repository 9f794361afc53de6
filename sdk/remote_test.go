package sdk_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/server"
	"github.com/verdict-authz/verdict/pip"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
	"github.com/verdict-authz/verdict/sdk"
)

// startRemotePDP serves the real remote PDP (pdp/server) for policy over
// TLS, as `verdict pdp serve` does.
func startRemotePDP(t *testing.T, ca *pki, policy *pdp.Policy, pips *pip.Set) string {
	t.Helper()
	engineOpts := []pdp.Option{pdp.WithLogger(quiet)}
	opts := []server.Option{server.WithTLS(ca.serverTLS(t)), server.WithLogger(quiet)}
	if pips != nil {
		engineOpts = append(engineOpts, pdp.WithPIPs(pips))
		opts = append(opts, server.WithPIPs(pips))
	}
	engine := pdp.New(engineOpts...)
	if err := engine.Activate(t.Context(), policy); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(engine, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return startTLS(t, srv.Handler(), ca).URL
}

func newRemote(t *testing.T, url string, tlsConfig *tls.Config, opts ...sdk.RemoteOption) *sdk.Remote {
	t.Helper()
	r, err := sdk.NewRemote(url, tlsConfig, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// TestRemoteDecidesLikeTheEmbeddedPDP sends the Todo requests to the real
// remote PDP through Remote: same decisions as the embedded PDP and as
// expected.
func TestRemoteDecidesLikeTheEmbeddedPDP(t *testing.T) {
	cases := todoCases(t)
	ca := newPKI(t)
	pol := todoPolicy(t)
	url := startRemotePDP(t, ca, pol, todoPIPs(t))
	local := mustNew(t, sdk.WithPolicy(pol), sdk.WithPIPs(todoPIPs(t)), sdk.WithLogger(quiet))
	remote := newRemote(t, url, ca.clientTLS(t, webID))
	var deciders = map[string]sdk.Decider{"embedded": local, "remote": remote}
	for i, c := range cases {
		for name, d := range deciders {
			dec, err := d.Decide(t.Context(), c.req)
			if err != nil {
				t.Fatalf("%s request %d: %v", name, i, err)
			}
			if got := dec.Effect == pdp.EffectPermit; got != c.expected {
				t.Errorf("%s request %d %s: %s, want permit=%t", name, i, c.raw, dec.Effect, c.expected)
			}
			if dec.ID == "" || dec.Revision != 1 {
				t.Errorf("%s request %d: id %q revision %d", name, i, dec.ID, dec.Revision)
			}
		}
	}
}

// TestMiddlewareInFrontOfRemote protects a route with the remote PDP:
// JWT-derived subjects travel with WithSubjectType.
func TestMiddlewareInFrontOfRemote(t *testing.T) {
	ca, iss := newPKI(t), newIssuer(t)
	url := startRemotePDP(t, ca, routesPolicy(t), nil)
	remote := newRemote(t, url, ca.clientTLS(t, ""), sdk.WithSubjectType("user"))
	h := sdk.Middleware(remote, sdk.WithTokenVerifier(iss.verifier(t)), sdk.WithLogger(quiet))(http.HandlerFunc(echo))
	for sub, want := range map[string]int{"alice": 200, "bob": 403} {
		if w := serve(h, http.MethodGet, "/whoami", "Bearer "+iss.sign(t, sub, map[string]any{"scope": "a b", "amount": 27.5})); w.Code != want {
			t.Errorf("%s: status %d (%s), want %d", sub, w.Code, w.Body, want)
		}
	}
	// Without a subject type the request cannot be sent: fail closed.
	strict := newRemote(t, url, ca.clientTLS(t, ""))
	h = sdk.Middleware(strict, sdk.WithTokenVerifier(iss.verifier(t)), sdk.WithLogger(quiet))(http.HandlerFunc(echo))
	if w := serve(h, http.MethodGet, "/whoami", "Bearer "+iss.sign(t, "alice", nil)); w.Code != 403 {
		t.Errorf("no subject type: status %d, want 403", w.Code)
	}
}

func TestNewRemoteTransportSecurity(t *testing.T) {
	ca := newPKI(t)
	for name, c := range map[string]struct {
		url  string
		tls  *tls.Config
		opts []sdk.RemoteOption
	}{
		"plaintext without opt-out":  {"http://127.0.0.1:1", nil, nil},
		"plaintext off loopback":     {"http://10.1.2.3:8181", nil, []sdk.RemoteOption{sdk.WithInsecurePlaintext()}},
		"plaintext to a remote name": {"http://pdp.internal:8181", nil, []sdk.RemoteOption{sdk.WithInsecurePlaintext()}},
		"TLS config with http URL":   {"http://127.0.0.1:1", ca.clientTLS(t, ""), nil},
		"negative timeout":           {"https://127.0.0.1:1", ca.clientTLS(t, ""), []sdk.RemoteOption{sdk.WithRemoteTimeout(-1)}},
	} {
		if _, err := sdk.NewRemote(c.url, c.tls, c.opts...); !errors.Is(err, sdk.ErrConfig) {
			t.Errorf("%s: NewRemote error = %v, want ErrConfig", name, err)
		}
	}

	// Loopback plaintext, explicitly allowed, works.
	engine := pdp.New(pdp.WithLogger(quiet))
	if err := engine.Activate(t.Context(), routesPolicy(t)); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(engine, server.WithInsecurePlaintext(), server.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	plain := httptest.NewServer(srv.Handler())
	defer plain.Close()
	r := newRemote(t, plain.URL, nil, sdk.WithInsecurePlaintext())
	d, err := r.Decide(t.Context(), rpcRequest("verdict.v1.DecisionService/Evaluate", "alice"))
	if err != nil || d.Effect != pdp.EffectPermit {
		t.Fatalf("plaintext loopback decision = %v, %v", d.Effect, err)
	}
}

// rpcRequest is an RPC call by sub, in the AuthZEN shape the remote PDP needs.
func rpcRequest(id, sub string) *pdp.Request {
	req := &pdp.Request{}
	req.Add(pdp.CategorySubject, "type", str("user"))
	req.Add(pdp.CategorySubject, "id", str(sub))
	req.Add(pdp.CategorySubject, "sub", str(sub))
	req.Add(pdp.CategoryAction, "name", str("/"+id))
	req.Add(pdp.CategoryResource, "type", str("rpc"))
	req.Add(pdp.CategoryResource, "id", str(id))
	return req
}

// fakePDP is a DecisionService answering what the test says and recording
// what it was asked.
type fakePDP struct {
	verdictv1connect.UnimplementedDecisionServiceHandler
	mu     sync.Mutex
	asked  []*verdictv1.EvaluateRequest
	answer *verdictv1.DecisionResult
}

func (f *fakePDP) Evaluate(_ context.Context, req *connect.Request[verdictv1.EvaluateRequest]) (*connect.Response[verdictv1.EvaluateResponse], error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, req.Msg)
	return connect.NewResponse(&verdictv1.EvaluateResponse{Result: f.answer}), nil
}

func startFake(t *testing.T, ca *pki, f *fakePDP) *sdk.Remote {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle(verdictv1connect.NewDecisionServiceHandler(f))
	return newRemote(t, startTLS(t, mux, ca).URL, ca.clientTLS(t, ""))
}

func TestRemoteRequestShape(t *testing.T) {
	ca := newPKI(t)
	f := &fakePDP{answer: &verdictv1.DecisionResult{
		Decision: verdictv1.Decision_DECISION_PERMIT, Allowed: true, XacmlDecision: "Permit", DecisionId: "d-1", BundleRevision: 9,
		Obligations: []*verdictv1.Obligation{{Id: "urn:example:ob", AttributeAssignments: []*verdictv1.AttributeAssignment{
			{AttributeId: "until", DataType: "http://www.w3.org/2001/XMLSchema#dateTime", Value: "2030-01-01T00:00:00Z"},
		}}},
		PolicyIdentifiers: []*verdictv1.PolicyIdentifier{{Kind: verdictv1.PolicyKind_POLICY_KIND_POLICY_SET, Id: "root", Version: "1.0"}},
	}}
	r := startFake(t, ca, f)

	req := rpcRequest("svc/M", "alice")
	req.Add(pdp.CategorySubject, "urn:oasis:names:tc:xacml:1.0:subject:subject-id", str("alice")) // same as id: left to the PDP's alias
	req.Add(pdp.CategorySubject, "roles", str("a"), str("b"))
	req.Add(pdp.CategorySubject, "fee", pdp.Value{Type: "double", Lexical: "27.50", Untyped: true})
	req.Add(pdp.CategorySubject, "age", pdp.Value{Type: "integer", Lexical: "42"})
	req.Add(pdp.CategorySubject, "big", pdp.Value{Type: "integer", Lexical: "9007199254740993"})
	req.Add(pdp.CategorySubject, "vip", pdp.Value{Type: "boolean", Lexical: "true"})
	req.Add(pdp.CategoryEnvironment, "time", pdp.Value{Type: "dateTime", Lexical: "2025-01-01T00:00:00Z"})
	d, err := r.Decide(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := &verdictv1.EvaluateRequest{
		Subject: &verdictv1.Subject{Type: "user", Id: "alice", Properties: mustStruct(t, map[string]any{
			"sub": "alice", "roles": []any{"a", "b"}, "fee": 27.5, "age": 42, "big": "9007199254740993", "vip": true,
		})},
		Action:   &verdictv1.Action{Name: "/svc/M"},
		Resource: &verdictv1.Resource{Type: "rpc", Id: "svc/M"},
		Context:  mustStruct(t, map[string]any{"time": "2025-01-01T00:00:00Z"}),
	}
	if len(f.asked) != 1 || !proto.Equal(f.asked[0], want) {
		t.Errorf("sent %v\nwant %v", f.asked, want)
	}
	if d.Effect != pdp.EffectPermit || d.ID != "d-1" || d.Revision != 9 || d.Status.Code != pdp.StatusOK {
		t.Errorf("decision = %+v", d)
	}
	if len(d.Obligations) != 1 || d.Obligations[0].Assignments[0].Type != "dateTime" || len(d.PolicyIDs) != 1 || d.PolicyIDs[0].Kind != "PolicySet" {
		t.Errorf("obligations %+v policy ids %+v", d.Obligations, d.PolicyIDs)
	}
}

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRemoteFailsClosed: whatever goes wrong, a Remote answers Deny with
// an error, never Permit.
func TestRemoteFailsClosed(t *testing.T) {
	ca := newPKI(t)
	inconsistent := &fakePDP{answer: &verdictv1.DecisionResult{Decision: verdictv1.Decision_DECISION_DENY, Allowed: true}}
	unspecified := &fakePDP{answer: &verdictv1.DecisionResult{Allowed: true}}
	empty := &fakePDP{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "https://" + ln.Addr().String()
	ln.Close()
	unreachable := newRemote(t, gone, ca.clientTLS(t, ""))
	closed := startFake(t, ca, &fakePDP{answer: &verdictv1.DecisionResult{Decision: verdictv1.Decision_DECISION_PERMIT, Allowed: true}})
	_ = closed.Close()
	_ = closed.Close()

	withIssuer := rpcRequest("svc/M", "alice")
	withIssuer.Attributes = append(withIssuer.Attributes, pdp.Attribute{Category: pdp.CategorySubject, ID: "role", Issuer: "hr", Values: []pdp.Value{str("admin")}})
	otherCategory := rpcRequest("svc/M", "alice")
	otherCategory.Add("urn:example:category:device", "id", str("laptop"))
	conflicting := rpcRequest("svc/M", "alice")
	conflicting.Add(pdp.CategorySubject, "urn:oasis:names:tc:xacml:1.0:subject:subject-id", str("mallory"))
	noResource := &pdp.Request{}
	noResource.Add(pdp.CategorySubject, "type", str("user"))
	noResource.Add(pdp.CategorySubject, "id", str("alice"))
	noResource.Add(pdp.CategoryAction, "name", str("read"))

	for _, c := range []struct {
		name   string
		remote *sdk.Remote
		req    *pdp.Request
		target error
	}{
		{"unreachable", unreachable, rpcRequest("svc/M", "alice"), sdk.ErrRemote},
		{"closed", closed, rpcRequest("svc/M", "alice"), sdk.ErrClosed},
		{"inconsistent answer", startFake(t, ca, inconsistent), rpcRequest("svc/M", "alice"), sdk.ErrRemote},
		{"unspecified decision", startFake(t, ca, unspecified), rpcRequest("svc/M", "alice"), sdk.ErrRemote},
		{"no result", startFake(t, ca, empty), rpcRequest("svc/M", "alice"), sdk.ErrRemote},
		{"issuer", unreachable, withIssuer, sdk.ErrNotRepresentable},
		{"other category", unreachable, otherCategory, sdk.ErrNotRepresentable},
		{"subject-id differs from id", unreachable, conflicting, sdk.ErrNotRepresentable},
		{"no resource", unreachable, noResource, sdk.ErrNotRepresentable},
		{"nil request", unreachable, nil, pdp.ErrBadRequest},
	} {
		d, err := c.remote.Decide(t.Context(), c.req)
		if !errors.Is(err, c.target) {
			t.Errorf("%s: error %v, want %v", c.name, err, c.target)
		}
		if d == nil || d.Effect != pdp.EffectDeny || d.ID == "" {
			t.Errorf("%s: decision %+v, want a fail-closed Deny", c.name, d)
		}
	}
}
