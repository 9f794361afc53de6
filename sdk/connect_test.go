package sdk_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"connectrpc.com/connect"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/verdict-authz/verdict/pdp"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
	"github.com/verdict-authz/verdict/sdk"
)

// connectDecisions is protectedDecisions for Connect.
type connectDecisions struct {
	verdictv1connect.UnimplementedDecisionServiceHandler
}

func (connectDecisions) Evaluate(ctx context.Context, req *connect.Request[verdictv1.EvaluateRequest]) (*connect.Response[verdictv1.EvaluateResponse], error) {
	resp, err := protectedDecisions{}.Evaluate(ctx, req.Msg)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(resp), nil
}

const streamProcedure = "/test.v1.Stream/Watch"

// startConnect serves a Connect DecisionService, a server stream and a
// health check behind the interceptor, over TLS (HTTP/2) with optional
// client certificates exposed to the interceptor by ExposeTLS.
func startConnect(t *testing.T, ca *pki, p sdk.Decider) string {
	t.Helper()
	ic := connect.WithInterceptors(sdk.NewConnectInterceptor(p, sdk.WithLogger(quiet)))
	mux := http.NewServeMux()
	mux.Handle(verdictv1connect.NewDecisionServiceHandler(connectDecisions{}, ic))
	mux.Handle(streamProcedure, connect.NewServerStreamHandler(streamProcedure,
		func(ctx context.Context, _ *connect.Request[emptypb.Empty], out *connect.ServerStream[structpb.Struct]) error {
			d, ok := sdk.DecisionFromContext(ctx)
			if !ok {
				return errNoDecisionInContext
			}
			for i := range 2 {
				msg, _ := structpb.NewStruct(map[string]any{"n": i, "decision": d.ID})
				if err := out.Send(msg); err != nil {
					return err
				}
			}
			return nil
		}, ic))
	const check = "/grpc.health.v1.Health/Check"
	mux.Handle(check, connect.NewUnaryHandler(check,
		func(context.Context, *connect.Request[healthpb.HealthCheckRequest]) (*connect.Response[healthpb.HealthCheckResponse], error) {
			return connect.NewResponse(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING}), nil
		}, ic))
	return startTLS(t, sdk.ExposeTLS(mux), ca).URL
}

func TestConnectInterceptor(t *testing.T) {
	ca, iss := newPKI(t), newIssuer(t)
	p := mustNew(t, sdk.WithPolicy(routesPolicy(t)), sdk.WithTokenVerifier(iss.verifier(t)), sdk.WithLogger(quiet))
	url := startConnect(t, ca, p)
	hc := httpClient(t, ca, "")
	alice, bob := iss.sign(t, "alice", nil), iss.sign(t, "bob", nil)

	t.Run("unary", func(t *testing.T) {
		client := verdictv1connect.NewDecisionServiceClient(hc, url)
		for _, c := range []struct {
			name      string
			auth      string
			code      connect.Code
			challenge string
		}{
			{"permitted subject", "Bearer " + alice, 0, ""},
			{"other subject", "Bearer " + bob, connect.CodePermissionDenied, ""},
			{"anonymous", "", connect.CodePermissionDenied, ""},
			{"tampered token", "Bearer " + alice[:len(alice)-6] + "AAAAAA", connect.CodeUnauthenticated, `Bearer error="invalid_token"`},
		} {
			req := connect.NewRequest(&verdictv1.EvaluateRequest{})
			if c.auth != "" {
				req.Header().Set("Authorization", c.auth)
			}
			resp, err := client.Evaluate(t.Context(), req)
			if c.code == 0 {
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
				} else if r := resp.Msg.GetResult(); r.GetXacmlDecision() != string(pdp.EffectPermit) || r.GetStatus().GetMessage() != "alice" {
					t.Errorf("%s: handler saw %v", c.name, r)
				}
				continue
			}
			var cerr *connect.Error
			if !errors.As(err, &cerr) || cerr.Code() != c.code {
				t.Errorf("%s: error %v, want code %v", c.name, err, c.code)
				continue
			}
			if got := cerr.Meta().Get("WWW-Authenticate"); got != c.challenge {
				t.Errorf("%s: WWW-Authenticate %q, want %q", c.name, got, c.challenge)
			}
		}
	})

	t.Run("server stream", func(t *testing.T) {
		client := connect.NewClient[emptypb.Empty, structpb.Struct](hc, url+streamProcedure)
		for token, want := range map[string]connect.Code{alice: 0, bob: connect.CodePermissionDenied} {
			req := connect.NewRequest(&emptypb.Empty{})
			req.Header().Set("Authorization", "Bearer "+token)
			stream, err := client.CallServerStream(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for stream.Receive() {
				n++
			}
			if got := connect.CodeOf(stream.Err()); (want == 0 && (stream.Err() != nil || n != 2)) || (want != 0 && got != want) {
				t.Errorf("stream: %d messages, error %v; want code %v", n, stream.Err(), want)
			}
			_ = stream.Close()
		}
	})

	t.Run("workload through ExposeTLS", func(t *testing.T) {
		for id, want := range map[string]connect.Code{billingID: 0, webID: connect.CodePermissionDenied} {
			client := connect.NewClient[healthpb.HealthCheckRequest, healthpb.HealthCheckResponse](httpClient(t, ca, id), url+"/grpc.health.v1.Health/Check")
			_, err := client.CallUnary(t.Context(), connect.NewRequest(&healthpb.HealthCheckRequest{}))
			if (want == 0 && err != nil) || (want != 0 && connect.CodeOf(err) != want) {
				t.Errorf("Check as %s: %v, want code %v", id, err, want)
			}
		}
	})

	t.Run("client side is untouched", func(t *testing.T) {
		// On a client the interceptor must neither enforce nor need a token:
		// this call has none, and only the server's check (by workload) applies.
		client := connect.NewClient[healthpb.HealthCheckRequest, healthpb.HealthCheckResponse](httpClient(t, ca, billingID), url+"/grpc.health.v1.Health/Check",
			connect.WithInterceptors(sdk.NewConnectInterceptor(p, sdk.RequireToken(), sdk.WithLogger(quiet))))
		if _, err := client.CallUnary(t.Context(), connect.NewRequest(&healthpb.HealthCheckRequest{})); err != nil {
			t.Errorf("client interceptor interfered: %v", err)
		}
	})
}
