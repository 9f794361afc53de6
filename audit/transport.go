package audit

import (
	"context"
	"errors"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/verdict-authz/verdict/pap/store"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// code maps an error to the RPC code clients act on.
func code(err error) connect.Code {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, store.ErrNotFound):
		return connect.CodeNotFound
	case errors.Is(err, ErrInvalid), errors.Is(err, store.ErrInvalid):
		return connect.CodeInvalidArgument
	case errors.Is(err, ErrUnavailable):
		return connect.CodeUnimplemented
	case errors.Is(err, context.Canceled):
		return connect.CodeCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return connect.CodeDeadlineExceeded
	}
	return connect.CodeInternal
}

// RegisterGRPC serves s as verdict.v1.AuditService on g.
func (s *Service) RegisterGRPC(g *grpc.Server) {
	verdictv1.RegisterAuditServiceServer(g, grpcService{s: s})
}

// ConnectHandler returns the path and handler serving s over Connect (and
// gRPC-Web) on an HTTP server.
func (s *Service) ConnectHandler(opts ...connect.HandlerOption) (string, http.Handler) {
	return verdictv1connect.NewAuditServiceHandler(connectService{s: s}, opts...)
}

type grpcService struct {
	verdictv1.UnimplementedAuditServiceServer
	s *Service
}

func grpcErr(err error) error {
	if err == nil {
		return nil
	}
	return status.Error(codes.Code(code(err)), err.Error())
}

func (g grpcService) Query(ctx context.Context, in *verdictv1.QueryRequest) (*verdictv1.QueryResponse, error) {
	out, err := g.s.Query(ctx, in)
	return out, grpcErr(err)
}

func (g grpcService) Get(ctx context.Context, in *verdictv1.AuditServiceGetRequest) (*verdictv1.AuditServiceGetResponse, error) {
	out, err := g.s.Get(ctx, in)
	return out, grpcErr(err)
}

func (g grpcService) Replay(ctx context.Context, in *verdictv1.ReplayRequest) (*verdictv1.ReplayResponse, error) {
	out, err := g.s.Replay(ctx, in)
	return out, grpcErr(err)
}

func (g grpcService) Verify(ctx context.Context, in *verdictv1.VerifyRequest) (*verdictv1.VerifyResponse, error) {
	out, err := g.s.Verify(ctx, in)
	return out, grpcErr(err)
}

func (g grpcService) Changes(ctx context.Context, in *verdictv1.ChangesRequest) (*verdictv1.ChangesResponse, error) {
	out, err := g.s.Changes(ctx, in)
	return out, grpcErr(err)
}

type connectService struct{ s *Service }

func unary[Req, Resp any](ctx context.Context, req *connect.Request[Req], f func(context.Context, *Req) (*Resp, error)) (*connect.Response[Resp], error) {
	out, err := f(ctx, req.Msg)
	if err != nil {
		return nil, connect.NewError(code(err), err)
	}
	return connect.NewResponse(out), nil
}

func (c connectService) Query(ctx context.Context, r *connect.Request[verdictv1.QueryRequest]) (*connect.Response[verdictv1.QueryResponse], error) {
	return unary(ctx, r, c.s.Query)
}

func (c connectService) Get(ctx context.Context, r *connect.Request[verdictv1.AuditServiceGetRequest]) (*connect.Response[verdictv1.AuditServiceGetResponse], error) {
	return unary(ctx, r, c.s.Get)
}

func (c connectService) Replay(ctx context.Context, r *connect.Request[verdictv1.ReplayRequest]) (*connect.Response[verdictv1.ReplayResponse], error) {
	return unary(ctx, r, c.s.Replay)
}

func (c connectService) Verify(ctx context.Context, r *connect.Request[verdictv1.VerifyRequest]) (*connect.Response[verdictv1.VerifyResponse], error) {
	return unary(ctx, r, c.s.Verify)
}

func (c connectService) Changes(ctx context.Context, r *connect.Request[verdictv1.ChangesRequest]) (*connect.Response[verdictv1.ChangesResponse], error) {
	return unary(ctx, r, c.s.Changes)
}
