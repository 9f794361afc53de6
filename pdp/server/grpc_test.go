package server_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/server"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// fakeValidator accepts the tokens it knows, with their claims.
type fakeValidator map[string]map[string][]any

func (f fakeValidator) Validate(_ context.Context, token string) (map[string][]any, error) {
	if c, ok := f[token]; ok {
		return c, nil
	}
	return nil, errors.New("signature does not verify")
}

var testTokens = fakeValidator{
	"reader": {"sub": {"alice"}, "urn:oasis:names:tc:xacml:1.0:subject:subject-id": {"alice"}, "scope": {"todos:read", "profile"}},
	"admin":  {"sub": {"carol"}, "role": {"admin"}, "level": {int64(3)}},
}

func dial(t testing.TB, addr string) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func props(t testing.TB, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDecisionServiceGRPC(t *testing.T) {
	r := start(t, server.WithTokenValidator(testTokens))
	c := verdictv1.NewDecisionServiceClient(dial(t, r.grpcAddr))
	ctx := context.Background()

	res, err := c.Evaluate(ctx, &verdictv1.EvaluateRequest{
		Subject:  &verdictv1.Subject{Type: "user", Id: "alice"},
		Action:   &verdictv1.Action{Name: "read"},
		Resource: &verdictv1.Resource{Type: "record", Id: "record-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.GetResult(); !got.GetAllowed() || got.GetDecision() != verdictv1.Decision_DECISION_PERMIT ||
		got.GetXacmlDecision() != "Permit" || got.GetStatus().GetCode() != pdp.StatusOK || got.GetBundleRevision() != 7 || got.GetDecisionId() == "" {
		t.Fatalf("result = %v", got)
	}

	res, err = c.Evaluate(ctx, &verdictv1.EvaluateRequest{
		Subject:  &verdictv1.Subject{Type: "user", Id: "alice"},
		Action:   &verdictv1.Action{Name: "delete", Properties: props(t, map[string]any{"soft": false})},
		Resource: &verdictv1.Resource{Type: "record", Id: "record-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.GetResult(); got.GetAllowed() || got.GetDecision() != verdictv1.Decision_DECISION_DENY || len(got.GetAdvice()) != 1 {
		t.Fatalf("result = %v", got)
	}

	batch, err := c.EvaluateBatch(ctx, &verdictv1.EvaluateBatchRequest{
		Subject:  &verdictv1.Subject{Type: "user", Id: "alice"},
		Resource: &verdictv1.Resource{Type: "record", Id: "record-2", Properties: props(t, map[string]any{"status": "archived"})},
		Evaluations: []*verdictv1.Evaluation{
			{Action: &verdictv1.Action{Name: "read"}},
			{Action: &verdictv1.Action{Name: "write"}},
			{Action: &verdictv1.Action{Name: "read"}},
		},
		Options: &verdictv1.EvaluateBatchOptions{EvaluationsSemantic: verdictv1.EvaluationsSemantic_EVALUATIONS_SEMANTIC_DENY_ON_FIRST_DENY},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := allowed(batch.GetEvaluations()); !slices.Equal(got, []bool{true, false}) {
		t.Fatalf("batch = %v", got)
	}
	batch, err = c.EvaluateBatch(ctx, &verdictv1.EvaluateBatchRequest{
		Subject: &verdictv1.Subject{Type: "user", Id: "alice"}, Action: &verdictv1.Action{Name: "read"},
		Resource: &verdictv1.Resource{Type: "record", Id: "record-1"},
	})
	if err != nil || len(batch.GetEvaluations()) != 1 || !batch.GetEvaluations()[0].GetAllowed() {
		t.Fatalf("a batch without items is one evaluation of the defaults: %v %v", batch, err)
	}

	// A bearer token stands for the subject.
	res, err = c.Evaluate(ctx, &verdictv1.EvaluateRequest{
		Action:      &verdictv1.Action{Name: "write"},
		Resource:    &verdictv1.Resource{Type: "record", Id: "record-2"},
		BearerToken: "admin",
	})
	if err != nil || !res.GetResult().GetAllowed() {
		t.Fatalf("token claims: %v %v", res, err)
	}

	for _, tc := range []struct {
		name string
		req  *verdictv1.EvaluateRequest
		code codes.Code
		msg  string
	}{
		{"no action", &verdictv1.EvaluateRequest{Subject: &verdictv1.Subject{Type: "user", Id: "alice"}, Resource: &verdictv1.Resource{Type: "record", Id: "1"}}, codes.InvalidArgument, "action is required"},
		{"no subject", &verdictv1.EvaluateRequest{Action: &verdictv1.Action{Name: "read"}, Resource: &verdictv1.Resource{Type: "record", Id: "1"}}, codes.InvalidArgument, "subject is required"},
		{"no resource id", &verdictv1.EvaluateRequest{Subject: &verdictv1.Subject{Type: "user", Id: "alice"}, Action: &verdictv1.Action{Name: "read"}, Resource: &verdictv1.Resource{Type: "record"}}, codes.InvalidArgument, "resource.id is required"},
		{"bad token", &verdictv1.EvaluateRequest{Action: &verdictv1.Action{Name: "read"}, Resource: &verdictv1.Resource{Type: "record", Id: "1"}, BearerToken: "forged"}, codes.Unauthenticated, "signature does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Evaluate(ctx, tc.req)
			if status.Code(err) != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.code, tc.msg)
			}
		})
	}
	_, err = c.EvaluateBatch(ctx, &verdictv1.EvaluateBatchRequest{
		Action:      &verdictv1.Action{Name: "read"},
		Evaluations: []*verdictv1.Evaluation{{Subject: &verdictv1.Subject{Type: "user", Id: "a"}, Resource: &verdictv1.Resource{Type: "r", Id: "1"}}, {}},
	})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "evaluations[1].subject is required") {
		t.Fatalf("batch item error: %v", err)
	}
}

func allowed(rs []*verdictv1.DecisionResult) []bool {
	out := make([]bool, len(rs))
	for i, r := range rs {
		out[i] = r.GetAllowed()
	}
	return out
}

func TestDecisionServiceLimits(t *testing.T) {
	r := start(t, server.WithMaxRequestBytes(512), server.WithMaxBatch(2))
	c := verdictv1.NewDecisionServiceClient(dial(t, r.grpcAddr))
	ctx := context.Background()
	_, err := c.Evaluate(ctx, &verdictv1.EvaluateRequest{
		Subject:  &verdictv1.Subject{Type: "user", Id: "alice", Properties: props(t, map[string]any{"pad": strings.Repeat("x", 2048)})},
		Action:   &verdictv1.Action{Name: "read"},
		Resource: &verdictv1.Resource{Type: "record", Id: "record-1"},
	})
	if status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("oversized message: %v", err)
	}
	_, err = c.EvaluateBatch(ctx, &verdictv1.EvaluateBatchRequest{Evaluations: make([]*verdictv1.Evaluation, 3)})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "more than the limit of 2") {
		t.Fatalf("oversized batch: %v", err)
	}
	_, err = c.Evaluate(ctx, &verdictv1.EvaluateRequest{
		Subject: &verdictv1.Subject{Type: "user", Id: "alice"}, Action: &verdictv1.Action{Name: "read"},
		Resource: &verdictv1.Resource{Type: "record", Id: "record-1"}, BearerToken: "x",
	})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "no token validation configured") {
		t.Fatalf("bearer token without a validator: %v", err)
	}
}

func TestDefaultDeadline(t *testing.T) {
	r := start(t, server.WithRequestTimeout(time.Nanosecond))
	c := verdictv1.NewDecisionServiceClient(dial(t, r.grpcAddr))
	req := &verdictv1.EvaluateRequest{
		Subject: &verdictv1.Subject{Type: "user", Id: "alice"}, Action: &verdictv1.Action{Name: "read"},
		Resource: &verdictv1.Resource{Type: "record", Id: "record-1"},
	}
	if _, err := c.Evaluate(context.Background(), req); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("a call without a deadline gets the default one: %v", err)
	}
	// The caller's own deadline is kept.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Evaluate(ctx, req); err != nil {
		t.Fatalf("a call with its own deadline: %v", err)
	}
	got := post(t, r.base+server.PathEvaluation, obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1")})
	if got.status != http.StatusServiceUnavailable || !strings.Contains(got.body["error"].(string), "deadline") {
		t.Fatalf("HTTP past the default deadline: %d %s", got.status, got.raw)
	}
}

func TestDecisionServiceConnect(t *testing.T) {
	r := start(t)
	req := &verdictv1.EvaluateRequest{
		Subject: &verdictv1.Subject{Type: "user", Id: "bob", Properties: props(t, map[string]any{"role": "admin"})},
		Action:  &verdictv1.Action{Name: "write"}, Resource: &verdictv1.Resource{Type: "record", Id: "record-2"},
	}
	h2c := &http.Client{Transport: &http.Transport{Protocols: func() *http.Protocols {
		p := new(http.Protocols)
		p.SetUnencryptedHTTP2(true)
		return p
	}()}}
	for name, c := range map[string]verdictv1connect.DecisionServiceClient{
		"connect":      verdictv1connect.NewDecisionServiceClient(http.DefaultClient, r.base),
		"connect-json": verdictv1connect.NewDecisionServiceClient(http.DefaultClient, r.base, connect.WithProtoJSON()),
		"grpc-h2c":     verdictv1connect.NewDecisionServiceClient(h2c, r.base, connect.WithGRPC()),
	} {
		t.Run(name, func(t *testing.T) {
			res, err := c.Evaluate(context.Background(), connect.NewRequest(req))
			if err != nil {
				t.Fatal(err)
			}
			if !res.Msg.GetResult().GetAllowed() {
				t.Fatalf("result = %v", res.Msg.GetResult())
			}
			_, err = c.Evaluate(context.Background(), connect.NewRequest(&verdictv1.EvaluateRequest{}))
			if connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Fatalf("empty request: %v", err)
			}
		})
	}
	// Connect's JSON works with a plain HTTP POST (curl).
	got := post(t, r.base+"/verdict.v1.DecisionService/Evaluate",
		`{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`)
	if got.status != http.StatusOK || got.body["result"].(map[string]any)["allowed"] != true {
		t.Fatalf("curl-style Connect call: %d %s", got.status, got.raw)
	}
}

func TestHealthAndReflection(t *testing.T) {
	r := start(t)
	cc := dial(t, r.grpcAddr)
	h := healthpb.NewHealthClient(cc)
	for _, svc := range []string{"", "verdict.v1.DecisionService", "envoy.service.auth.v3.Authorization"} {
		res, err := h.Check(context.Background(), &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health %q: %v %v", svc, res, err)
		}
	}
	stream, err := reflectionpb.NewServerReflectionClient(cc).ServerReflectionInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"verdict.v1.DecisionService", "envoy.service.auth.v3.Authorization", "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}
	_ = stream.CloseSend()
}

func TestHealthFollowsTheEngine(t *testing.T) {
	e := pdp.New()
	r := startEngine(t, e, server.WithInsecurePlaintext())
	h := healthpb.NewHealthClient(dial(t, r.grpcAddr))
	res, err := h.Check(context.Background(), &healthpb.HealthCheckRequest{})
	if err != nil || res.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Fatalf("before a policy: %v %v", res, err)
	}
	src, err := os.ReadFile("testdata/policy.rego")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Activate(context.Background(), &pdp.Policy{Modules: map[string]string{"p.rego": string(src)}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := h.Check(context.Background(), &healthpb.HealthCheckRequest{})
		if err == nil && res.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health never turned SERVING: %v %v", res, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := get(t, r.base+"/healthz"); got.status != http.StatusOK {
		t.Fatalf("healthz after activation: %d", got.status)
	}
}
