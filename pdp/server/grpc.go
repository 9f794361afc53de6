package server

import (
	"context"
	"path"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// newGRPCServer builds the gRPC server: DecisionService, Envoy ext_authz,
// health and reflection, with bounded messages, default deadlines and
// metrics.
func (s *Server) newGRPCServer() *grpc.Server {
	creds := insecure.NewCredentials()
	switch {
	case s.tracker != nil:
		creds = s.tracker.ServerCredentials(s.cfg.tls.Clone())
	case s.cfg.tls != nil:
		creds = credentials.NewTLS(s.cfg.tls.Clone())
	}
	srv := grpc.NewServer(
		grpc.Creds(creds),
		grpc.MaxRecvMsgSize(int(s.cfg.maxBytes)),
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	)
	verdictv1.RegisterDecisionServiceServer(srv, &grpcDecisionService{svc: s})
	authv3.RegisterAuthorizationServer(srv, &extAuthz{svc: s})
	healthpb.RegisterHealthServer(srv, s.health.grpc)
	reflection.Register(srv)
	return srv
}

// unaryInterceptor gives calls without a deadline the default one and
// records metrics per method.
func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	start := time.Now()
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	resp, err := handler(ctx, req)
	api := "grpc_" + path.Base(path.Dir(info.FullMethod)) + "_" + path.Base(info.FullMethod)
	s.metrics.requests.WithLabelValues(api, status.Code(err).String()).Inc()
	s.metrics.duration.WithLabelValues(api).Observe(time.Since(start).Seconds())
	return resp, err
}
