package server

import (
	"context"
	"crypto/x509"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
)

// Anonymous is the author of revisions pushed without a client
// certificate, which only the plaintext loopback opt-out allows.
const Anonymous = "anonymous"

type authorKey struct{}

// author returns the caller's identity the transport put in ctx.
func author(ctx context.Context) string {
	if a, ok := ctx.Value(authorKey{}).(string); ok && a != "" {
		return a
	}
	return Anonymous
}

// certIdentity names a client certificate: its first URI SAN (the SPIFFE
// ID the Verdict CA issues), else its subject common name.
func certIdentity(certs []*x509.Certificate) string {
	if len(certs) == 0 {
		return ""
	}
	leaf := certs[0]
	if len(leaf.URIs) > 0 {
		return leaf.URIs[0].String()
	}
	return leaf.Subject.CommonName
}

// withHTTPIdentity puts the TLS client's identity in the request context
// for the Connect handlers.
func withHTTPIdentity(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			if id := certIdentity(r.TLS.PeerCertificates); id != "" {
				r = r.WithContext(context.WithValue(r.Context(), authorKey{}, id))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// grpcIdentity reads the TLS client's identity from the gRPC peer.
func grpcIdentity(ctx context.Context) context.Context {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ctx
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return ctx
	}
	if id := certIdentity(info.State.PeerCertificates); id != "" {
		return context.WithValue(ctx, authorKey{}, id)
	}
	return ctx
}

func unaryIdentity(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	return handler(grpcIdentity(ctx), req)
}

func streamIdentity(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return handler(srv, &identityStream{ServerStream: ss, ctx: grpcIdentity(ss.Context())})
}

// identityStream overrides a stream's context with the identity added.
type identityStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *identityStream) Context() context.Context { return s.ctx }
