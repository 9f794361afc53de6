package caservice

import (
	"context"
	"errors"
	"net/http"

	"connectrpc.com/connect"

	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// ConnectHandler returns the Connect (and gRPC-Web, and HTTP/2 gRPC) handler
// and the path prefix to mount it on. The HTTP server must run TLS that
// verifies client certificates against the CA's bundle: the handler takes
// r.TLS.PeerCertificates as the caller's authenticated identity.
func (s *Service) ConnectHandler(opts ...connect.HandlerOption) (string, http.Handler) {
	path, h := verdictv1connect.NewCertificateAuthorityServiceHandler(connectService{s: s}, opts...)
	return path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			r = r.WithContext(withPeer(r.Context(), r.TLS.PeerCertificates))
		}
		h.ServeHTTP(w, r)
	})
}

// connectService adapts Service to the generated Connect interface.
type connectService struct{ s *Service }

var _ verdictv1connect.CertificateAuthorityServiceHandler = connectService{}

func connectUnary[Req, Resp any](ctx context.Context, s *Service, req *connect.Request[Req], f func(context.Context, *Req) (*Resp, error)) (*connect.Response[Resp], error) {
	resp, err := f(ctx, req.Msg)
	if err != nil {
		c, msg := s.failure(ctx, req.Spec().Procedure, err)
		return nil, connect.NewError(c, errors.New(msg))
	}
	return connect.NewResponse(resp), nil
}

func (c connectService) Sign(ctx context.Context, r *connect.Request[verdictv1.SignRequest]) (*connect.Response[verdictv1.SignResponse], error) {
	return connectUnary(ctx, c.s, r, c.s.sign)
}

func (c connectService) NewCert(ctx context.Context, r *connect.Request[verdictv1.NewCertRequest]) (*connect.Response[verdictv1.NewCertResponse], error) {
	return connectUnary(ctx, c.s, r, c.s.newCert)
}

func (c connectService) Info(ctx context.Context, r *connect.Request[verdictv1.InfoRequest]) (*connect.Response[verdictv1.InfoResponse], error) {
	return connectUnary(ctx, c.s, r, c.s.info)
}

func (c connectService) Revoke(ctx context.Context, r *connect.Request[verdictv1.RevokeRequest]) (*connect.Response[verdictv1.RevokeResponse], error) {
	return connectUnary(ctx, c.s, r, c.s.revoke)
}

func (c connectService) CRL(ctx context.Context, r *connect.Request[verdictv1.CRLRequest]) (*connect.Response[verdictv1.CRLResponse], error) {
	return connectUnary(ctx, c.s, r, c.s.crl)
}

func (c connectService) CreateJoinToken(ctx context.Context, r *connect.Request[verdictv1.CreateJoinTokenRequest]) (*connect.Response[verdictv1.CreateJoinTokenResponse], error) {
	return connectUnary(ctx, c.s, r, c.s.createJoinToken)
}

func (c connectService) Redeem(ctx context.Context, r *connect.Request[verdictv1.RedeemRequest]) (*connect.Response[verdictv1.RedeemResponse], error) {
	return connectUnary(ctx, c.s, r, c.s.redeem)
}

func (c connectService) Renew(ctx context.Context, r *connect.Request[verdictv1.RenewRequest]) (*connect.Response[verdictv1.RenewResponse], error) {
	return connectUnary(ctx, c.s, r, c.s.renew)
}
