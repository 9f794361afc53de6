package sdk_test

import (
	"context"
	"errors"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/verdict-authz/verdict/pdp"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/sdk"
)

// protectedDecisions is a service behind the PEP: it answers with what the
// PEP put in its context, so tests see the handler's view.
type protectedDecisions struct {
	verdictv1.UnimplementedDecisionServiceServer
}

var errNoDecisionInContext = errors.New("no decision in the handler's context")

func (protectedDecisions) Evaluate(ctx context.Context, _ *verdictv1.EvaluateRequest) (*verdictv1.EvaluateResponse, error) {
	d, ok := sdk.DecisionFromContext(ctx)
	if !ok {
		return nil, errNoDecisionInContext
	}
	sub := ""
	if c, ok := sdk.ClaimsFromContext(ctx); ok {
		sub = c.Subject()
	}
	return &verdictv1.EvaluateResponse{Result: &verdictv1.DecisionResult{
		DecisionId: d.ID, XacmlDecision: string(d.Effect), Status: &verdictv1.DecisionStatus{Message: sub},
	}}, nil
}

// startGRPC serves the protected services on 127.0.0.1:0 over TLS with
// optional client certificates.
func startGRPC(t *testing.T, ca *pki, p sdk.Decider) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(
		grpc.Creds(credentials.NewTLS(ca.serverTLS(t))),
		grpc.UnaryInterceptor(sdk.UnaryServerInterceptor(p, sdk.WithLogger(quiet))),
		grpc.StreamInterceptor(sdk.StreamServerInterceptor(p, sdk.WithLogger(quiet))),
	)
	verdictv1.RegisterDecisionServiceServer(s, protectedDecisions{})
	healthpb.RegisterHealthServer(s, health.NewServer())
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(s.Stop)
	return ln.Addr().String()
}

func grpcConn(t *testing.T, ca *pki, addr, spiffeID string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(ca.clientTLS(t, spiffeID))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func withToken(ctx context.Context, raw string) context.Context {
	if raw == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+raw)
}

func TestGRPCInterceptors(t *testing.T) {
	ca, iss := newPKI(t), newIssuer(t)
	p := mustNew(t, sdk.WithPolicy(routesPolicy(t)), sdk.WithTokenVerifier(iss.verifier(t)), sdk.WithLogger(quiet))
	addr := startGRPC(t, ca, p)
	anon := grpcConn(t, ca, addr, "")
	alice, bob := iss.sign(t, "alice", nil), iss.sign(t, "bob", nil)

	t.Run("unary", func(t *testing.T) {
		client := verdictv1.NewDecisionServiceClient(anon)
		for _, c := range []struct {
			name  string
			token string
			code  codes.Code
		}{
			{"permitted subject", alice, codes.OK},
			{"other subject", bob, codes.PermissionDenied},
			{"anonymous", "", codes.PermissionDenied},
			{"tampered token", alice[:len(alice)-6] + "AAAAAA", codes.Unauthenticated},
		} {
			resp, err := client.Evaluate(withToken(t.Context(), c.token), &verdictv1.EvaluateRequest{})
			if got := status.Code(err); got != c.code {
				t.Errorf("%s: code %v (%v), want %v", c.name, got, err, c.code)
				continue
			}
			if c.code == codes.OK {
				r := resp.GetResult()
				if r.GetXacmlDecision() != string(pdp.EffectPermit) || r.GetDecisionId() == "" || r.GetStatus().GetMessage() != "alice" {
					t.Errorf("%s: handler saw %v", c.name, r)
				}
			}
		}
	})

	t.Run("stream", func(t *testing.T) {
		client := healthpb.NewHealthClient(anon)
		for token, want := range map[string]codes.Code{alice: codes.OK, bob: codes.PermissionDenied} {
			stream, err := client.Watch(withToken(t.Context(), token), &healthpb.HealthCheckRequest{})
			if err != nil {
				t.Fatal(err)
			}
			resp, err := stream.Recv()
			if got := status.Code(err); got != want {
				t.Errorf("Watch: code %v (%v), want %v", got, err, want)
			}
			if want == codes.OK && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				t.Errorf("Watch: %v", resp)
			}
		}
	})

	t.Run("workload from the peer certificate", func(t *testing.T) {
		for id, want := range map[string]codes.Code{billingID: codes.OK, webID: codes.PermissionDenied, "": codes.PermissionDenied} {
			client := healthpb.NewHealthClient(grpcConn(t, ca, addr, id))
			_, err := client.Check(t.Context(), &healthpb.HealthCheckRequest{})
			if got := status.Code(err); got != want {
				t.Errorf("Check as %q: code %v (%v), want %v", id, got, err, want)
			}
		}
	})
}
