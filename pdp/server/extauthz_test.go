package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/verdict-authz/verdict/pdp/server"
)

// check builds an ext_authz request for method and path.
func check(method, path, principal string, headers map[string]string) *authv3.CheckRequest {
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
		Source:  &authv3.AttributeContext_Peer{Principal: principal},
		Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{Method: method, Path: path, Headers: headers}},
	}}
}

func headerMap(hs []*corev3.HeaderValueOption) map[string]string {
	out := map[string]string{}
	for _, h := range hs {
		out[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
	}
	return out
}

func TestExtAuthz(t *testing.T) {
	clock := time.Date(2025, 6, 27, 18, 3, 0, 0, time.UTC)
	r := start(t, server.WithTokenValidator(testTokens), server.WithClock(func() time.Time { return clock }))
	c := authv3.NewAuthorizationClient(dial(t, r.grpcAddr))
	tests := []struct {
		name       string
		req        *authv3.CheckRequest
		ok         bool
		httpStatus typev3.StatusCode
	}{
		{"public path, query ignored", check("GET", "/public/doc?x=/private", "", nil), true, 0},
		{"other method", check("POST", "/public/doc", "", nil), false, typev3.StatusCode_Forbidden},
		{"workload from the source principal", check("GET", "/private", "spiffe://test/ok", nil), true, 0},
		{"other workload", check("GET", "/private", "spiffe://test/other", nil), false, typev3.StatusCode_Forbidden},
		{"bearer claims", check("GET", "/todos", "", map[string]string{"authorization": "Bearer reader"}), true, 0},
		{"bearer claims lacking the scope", check("GET", "/todos", "", map[string]string{"authorization": "Bearer admin"}), false, typev3.StatusCode_Forbidden},
		{"no token", check("GET", "/todos", "", nil), false, typev3.StatusCode_Forbidden},
		{"not a bearer token", check("GET", "/todos", "", map[string]string{"authorization": "Basic cmVhZGVy"}), false, typev3.StatusCode_Forbidden},
		{"invalid token", check("GET", "/public", "", map[string]string{"authorization": "Bearer forged"}), false, typev3.StatusCode_Unauthorized},
		{"environment time", check("GET", "/before-2030", "", nil), true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.Check(context.Background(), tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if ok := res.GetStatus().GetCode() == int32(codes.OK); ok != tc.ok {
				t.Fatalf("status %v, want ok=%v: %v", res.GetStatus(), tc.ok, res)
			}
			if tc.ok {
				if res.GetOkResponse() == nil {
					t.Fatalf("OK without an OkResponse: %v", res)
				}
				return
			}
			d := res.GetDeniedResponse()
			if d.GetStatus().GetCode() != tc.httpStatus {
				t.Fatalf("HTTP status %v, want %v", d.GetStatus().GetCode(), tc.httpStatus)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(d.GetBody()), &body); err != nil {
				t.Fatalf("denied body is not JSON: %q", d.GetBody())
			}
			if headerMap(d.GetHeaders())["content-type"] != "application/json" {
				t.Errorf("denied response headers %v", d.GetHeaders())
			}
			if tc.httpStatus == typev3.StatusCode_Unauthorized {
				if res.GetStatus().GetCode() != int32(codes.Unauthenticated) || !strings.Contains(headerMap(d.GetHeaders())["www-authenticate"], "invalid_token") {
					t.Fatalf("invalid token answer: %v", res)
				}
				return
			}
			if res.GetStatus().GetCode() != int32(codes.PermissionDenied) || body["decision"] != false {
				t.Fatalf("denied answer: %v %s", res.GetStatus(), d.GetBody())
			}
		})
	}
}

func TestExtAuthzHeadersFromObligations(t *testing.T) {
	r := start(t)
	c := authv3.NewAuthorizationClient(dial(t, r.grpcAddr))
	res, err := c.Check(context.Background(), check("GET", "/hdr", "", nil))
	if err != nil {
		t.Fatal(err)
	}
	okr := res.GetOkResponse()
	if okr == nil {
		t.Fatalf("not OK: %v", res)
	}
	if got := headerMap(okr.GetHeaders()); got["x-user"] != "alice" || got["x-level"] != "3" || len(got) != 2 {
		t.Fatalf("upstream headers = %v", got)
	}
	if got := headerMap(okr.GetResponseHeadersToAdd()); got["x-served-by"] != "verdict" || len(got) != 1 {
		t.Fatalf("downstream headers = %v", got)
	}
	for _, h := range okr.GetHeaders() {
		if h.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
			t.Errorf("header %s appends instead of overwriting: a client could smuggle its own value", h.GetHeader().GetKey())
		}
	}

	// A Permit with an obligation Envoy cannot fulfil is not a grant.
	res, err = c.Check(context.Background(), check("GET", "/unknown-obligation", "", nil))
	if err != nil {
		t.Fatal(err)
	}
	d := res.GetDeniedResponse()
	if d == nil || d.GetStatus().GetCode() != typev3.StatusCode_Forbidden || !strings.Contains(d.GetBody(), "urn:example:unknown") {
		t.Fatalf("unfulfillable obligation: %v", res)
	}
}

func TestExtAuthzTokenInHeaderMap(t *testing.T) {
	r := start(t, server.WithTokenValidator(testTokens))
	c := authv3.NewAuthorizationClient(dial(t, r.grpcAddr))
	req := check("GET", "/todos", "", nil)
	req.Attributes.Request.Http.HeaderMap = &corev3.HeaderMap{Headers: []*corev3.HeaderValue{{Key: "Authorization", RawValue: []byte("bearer reader")}}}
	res, err := c.Check(context.Background(), req)
	if err != nil || res.GetOkResponse() == nil {
		t.Fatalf("token from header_map: %v %v", res, err)
	}
}

func TestExtAuthzWithoutValidatorIgnoresTokens(t *testing.T) {
	r := start(t)
	c := authv3.NewAuthorizationClient(dial(t, r.grpcAddr))
	res, err := c.Check(context.Background(), check("GET", "/todos", "", map[string]string{"authorization": "Bearer reader"}))
	if err != nil || res.GetDeniedResponse().GetStatus().GetCode() != typev3.StatusCode_Forbidden {
		t.Fatalf("a token nobody can validate grants nothing: %v %v", res, err)
	}
	_, err = c.Check(context.Background(), &authv3.CheckRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("a check without an HTTP request: %v", err)
	}
}

func TestExtAuthzTime(t *testing.T) {
	late := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	r := start(t, server.WithClock(func() time.Time { return late }))
	c := authv3.NewAuthorizationClient(dial(t, r.grpcAddr))
	res, err := c.Check(context.Background(), check("GET", "/before-2030", "", nil))
	if err != nil || res.GetDeniedResponse() == nil {
		t.Fatalf("environment time after 2030 must deny: %v %v", res, err)
	}
}
