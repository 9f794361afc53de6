package server

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/grpc"

	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// connectService adapts the Server to the Connect handler interface.
type connectService struct{ s *Server }

var _ verdictv1connect.PolicyAdminServiceHandler = connectService{}

func unary[Req, Resp any](ctx context.Context, req *connect.Request[Req], f func(context.Context, *Req) (*Resp, error)) (*connect.Response[Resp], error) {
	resp, err := f(ctx, req.Msg)
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(resp), nil
}

func (c connectService) Push(ctx context.Context, r *connect.Request[verdictv1.PushRequest]) (*connect.Response[verdictv1.PushResponse], error) {
	return unary(ctx, r, c.s.push)
}

func (c connectService) Validate(ctx context.Context, r *connect.Request[verdictv1.ValidateRequest]) (*connect.Response[verdictv1.ValidateResponse], error) {
	return unary(ctx, r, c.s.validate)
}

func (c connectService) List(ctx context.Context, r *connect.Request[verdictv1.ListRequest]) (*connect.Response[verdictv1.ListResponse], error) {
	return unary(ctx, r, c.s.list)
}

func (c connectService) Get(ctx context.Context, r *connect.Request[verdictv1.PolicyAdminServiceGetRequest]) (*connect.Response[verdictv1.PolicyAdminServiceGetResponse], error) {
	return unary(ctx, r, c.s.get)
}

func (c connectService) Diff(ctx context.Context, r *connect.Request[verdictv1.DiffRequest]) (*connect.Response[verdictv1.DiffResponse], error) {
	return unary(ctx, r, c.s.diff)
}

func (c connectService) Rollback(ctx context.Context, r *connect.Request[verdictv1.RollbackRequest]) (*connect.Response[verdictv1.RollbackResponse], error) {
	return unary(ctx, r, c.s.rollback)
}

func (c connectService) RolloutStatus(ctx context.Context, r *connect.Request[verdictv1.RolloutStatusRequest]) (*connect.Response[verdictv1.RolloutStatusResponse], error) {
	return unary(ctx, r, c.s.rolloutStatus)
}

func (c connectService) WatchRollout(ctx context.Context, r *connect.Request[verdictv1.WatchRolloutRequest], stream *connect.ServerStream[verdictv1.WatchRolloutResponse]) error {
	return connectError(c.s.watchRollout(ctx, r.Msg, stream.Send))
}

// grpcService adapts the Server to the gRPC server interface.
type grpcService struct {
	verdictv1.UnimplementedPolicyAdminServiceServer
	s *Server
}

func (g grpcService) Push(ctx context.Context, r *verdictv1.PushRequest) (*verdictv1.PushResponse, error) {
	resp, err := g.s.push(ctx, r)
	return resp, grpcError(err)
}

func (g grpcService) Validate(ctx context.Context, r *verdictv1.ValidateRequest) (*verdictv1.ValidateResponse, error) {
	resp, err := g.s.validate(ctx, r)
	return resp, grpcError(err)
}

func (g grpcService) List(ctx context.Context, r *verdictv1.ListRequest) (*verdictv1.ListResponse, error) {
	resp, err := g.s.list(ctx, r)
	return resp, grpcError(err)
}

func (g grpcService) Get(ctx context.Context, r *verdictv1.PolicyAdminServiceGetRequest) (*verdictv1.PolicyAdminServiceGetResponse, error) {
	resp, err := g.s.get(ctx, r)
	return resp, grpcError(err)
}

func (g grpcService) Diff(ctx context.Context, r *verdictv1.DiffRequest) (*verdictv1.DiffResponse, error) {
	resp, err := g.s.diff(ctx, r)
	return resp, grpcError(err)
}

func (g grpcService) Rollback(ctx context.Context, r *verdictv1.RollbackRequest) (*verdictv1.RollbackResponse, error) {
	resp, err := g.s.rollback(ctx, r)
	return resp, grpcError(err)
}

func (g grpcService) RolloutStatus(ctx context.Context, r *verdictv1.RolloutStatusRequest) (*verdictv1.RolloutStatusResponse, error) {
	resp, err := g.s.rolloutStatus(ctx, r)
	return resp, grpcError(err)
}

func (g grpcService) WatchRollout(r *verdictv1.WatchRolloutRequest, stream grpc.ServerStreamingServer[verdictv1.WatchRolloutResponse]) error {
	return grpcError(g.s.watchRollout(stream.Context(), r, stream.Send))
}
