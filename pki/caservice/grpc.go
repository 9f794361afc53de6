package caservice

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// RegisterGRPC registers the service on a gRPC server. The server must use
// TLS credentials that verify client certificates against the CA's bundle
// (credentials.NewTLS(tlsconfig.ServerConfig(...))): the verified peer
// chain is the caller's identity.
func (s *Service) RegisterGRPC(r grpc.ServiceRegistrar) {
	verdictv1.RegisterCertificateAuthorityServiceServer(r, grpcService{s: s})
}

// grpcService adapts Service to the generated gRPC interface.
type grpcService struct {
	verdictv1.UnimplementedCertificateAuthorityServiceServer
	s *Service
}

// grpcPeer puts the TLS peer chain of a gRPC call into ctx.
func grpcPeer(ctx context.Context) context.Context {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return ctx
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok {
		return ctx
	}
	return withPeer(ctx, info.State.PeerCertificates)
}

func grpcUnary[Req, Resp any](ctx context.Context, s *Service, method string, req *Req, f func(context.Context, *Req) (*Resp, error)) (*Resp, error) {
	ctx = grpcPeer(ctx)
	resp, err := f(ctx, req)
	if err != nil {
		c, msg := s.failure(ctx, method, err)
		return nil, status.Error(codes.Code(c), msg)
	}
	return resp, nil
}

func (g grpcService) Sign(ctx context.Context, r *verdictv1.SignRequest) (*verdictv1.SignResponse, error) {
	return grpcUnary(ctx, g.s, "Sign", r, g.s.sign)
}

func (g grpcService) NewCert(ctx context.Context, r *verdictv1.NewCertRequest) (*verdictv1.NewCertResponse, error) {
	return grpcUnary(ctx, g.s, "NewCert", r, g.s.newCert)
}

func (g grpcService) Info(ctx context.Context, r *verdictv1.InfoRequest) (*verdictv1.InfoResponse, error) {
	return grpcUnary(ctx, g.s, "Info", r, g.s.info)
}

func (g grpcService) Revoke(ctx context.Context, r *verdictv1.RevokeRequest) (*verdictv1.RevokeResponse, error) {
	return grpcUnary(ctx, g.s, "Revoke", r, g.s.revoke)
}

func (g grpcService) CRL(ctx context.Context, r *verdictv1.CRLRequest) (*verdictv1.CRLResponse, error) {
	return grpcUnary(ctx, g.s, "CRL", r, g.s.crl)
}

func (g grpcService) CreateJoinToken(ctx context.Context, r *verdictv1.CreateJoinTokenRequest) (*verdictv1.CreateJoinTokenResponse, error) {
	return grpcUnary(ctx, g.s, "CreateJoinToken", r, g.s.createJoinToken)
}

func (g grpcService) Redeem(ctx context.Context, r *verdictv1.RedeemRequest) (*verdictv1.RedeemResponse, error) {
	return grpcUnary(ctx, g.s, "Redeem", r, g.s.redeem)
}

func (g grpcService) Renew(ctx context.Context, r *verdictv1.RenewRequest) (*verdictv1.RenewResponse, error) {
	return grpcUnary(ctx, g.s, "Renew", r, g.s.renew)
}
