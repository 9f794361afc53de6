package sdk

import (
	"context"
	"crypto/tls"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// UnaryServerInterceptor protects a gRPC server's unary methods: it
// verifies the bearer token of the "authorization" metadata
// (Unauthenticated when invalid), builds the request as NewRPCRequest and
// AddClaims do (the workload from the peer's verified certificate), decides
// with d, and calls the handler only for a Permit whose obligations are
// fulfilled (PermissionDenied otherwise). The handler finds the decision and
// claims in its context.
func UnaryServerInterceptor(d Decider, opts ...PEPOption) grpc.UnaryServerInterceptor {
	p := newPEP(d, opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := p.authorizeGRPC(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streaming methods:
// the call is decided once, when the stream opens.
func StreamServerInterceptor(d Decider, opts ...PEPOption) grpc.StreamServerInterceptor {
	p := newPEP(d, opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := p.authorizeGRPC(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
	}
}

// contextStream gives a stream's handler the context with the decision.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

func (p *pep) authorizeGRPC(ctx context.Context, method string) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	ctx, d, err := p.authorizeRPC(ctx, method, md.Get("authorization"), peerTLS(ctx))
	switch {
	case err == nil:
		return ctx, nil
	case errors.Is(err, ErrUnauthenticated):
		return ctx, status.Error(codes.Unauthenticated, "invalid or missing bearer token")
	}
	return ctx, status.Error(codes.PermissionDenied, "permission denied (decision "+d.ID+")")
}

// peerTLS returns the TLS state of a gRPC call's connection, nil on
// plaintext connections.
func peerTLS(ctx context.Context) *tls.ConnectionState {
	pr, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	if info, ok := pr.AuthInfo.(credentials.TLSInfo); ok {
		return &info.State
	}
	return nil
}
