package sdk

import (
	"context"
	"errors"

	"connectrpc.com/connect"
)

// NewConnectInterceptor protects Connect handlers the way the gRPC
// interceptors protect gRPC servers (same attributes, so a method gets the
// same decision over both): bearer token from the Authorization header
// (CodeUnauthenticated, with a WWW-Authenticate challenge, when invalid),
// decision by d, the handler called only for a Permit whose obligations are
// fulfilled (CodePermissionDenied otherwise). Streams are decided once,
// when they open. On clients it does nothing.
//
// Connect does not show interceptors the TLS connection: wrap the handler
// with ExposeTLS for the caller's workload identity to be part of the
// request.
func NewConnectInterceptor(d Decider, opts ...PEPOption) connect.Interceptor {
	return &connectInterceptor{pep: newPEP(d, opts)}
}

type connectInterceptor struct{ pep *pep }

func (i *connectInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if req.Spec().IsClient {
			return next(ctx, req)
		}
		ctx, err := i.authorize(ctx, req.Spec().Procedure, req.Header().Values("Authorization"))
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (i *connectInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i *connectInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := i.authorize(ctx, conn.Spec().Procedure, conn.RequestHeader().Values("Authorization"))
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

func (i *connectInterceptor) authorize(ctx context.Context, procedure string, authorization []string) (context.Context, error) {
	ctx, d, err := i.pep.authorizeRPC(ctx, procedure, authorization, tlsFromContext(ctx))
	switch {
	case err == nil:
		return ctx, nil
	case errors.Is(err, ErrUnauthenticated):
		cerr := connect.NewError(connect.CodeUnauthenticated, errors.New("invalid or missing bearer token"))
		challenge := `Bearer error="invalid_token"`
		if errors.Is(err, errMissingToken) {
			challenge = "Bearer"
		}
		cerr.Meta().Set("WWW-Authenticate", challenge)
		return ctx, cerr
	}
	return ctx, connect.NewError(connect.CodePermissionDenied, errors.New("permission denied (decision "+d.ID+")"))
}
