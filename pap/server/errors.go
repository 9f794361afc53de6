package server

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/protoadapt"

	"github.com/verdict-authz/verdict/pap/store"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// rpcError is a failure of the service with its code and details; the
// gRPC and Connect adapters turn it into their own error types (Connect
// codes are gRPC's).
type rpcError struct {
	code    codes.Code
	msg     string
	details []proto.Message
}

func (e *rpcError) Error() string { return e.msg }

func rpcErrorf(code codes.Code, format string, args ...any) *rpcError {
	return &rpcError{code: code, msg: fmt.Sprintf(format, args...)}
}

// refused is the error of a push that failed its checks.
func refused(diags []*verdictv1.Diagnostic) *rpcError {
	msg := fmt.Sprintf("policies refused: %d problem(s)", len(diags))
	if len(diags) > 0 {
		msg += "; first: " + DiagnosticText(diags[0])
	}
	return &rpcError{
		code:    codes.InvalidArgument,
		msg:     msg,
		details: []proto.Message{&verdictv1.PolicyValidationFailure{Diagnostics: diags}},
	}
}

// toRPC maps an error of the store or of a context to a code.
func toRPC(err error) *rpcError {
	var re *rpcError
	switch {
	case errors.As(err, &re):
		return re
	case errors.Is(err, store.ErrNotFound):
		return rpcErrorf(codes.NotFound, "%v", err)
	case errors.Is(err, store.ErrInvalid):
		return rpcErrorf(codes.InvalidArgument, "%v", err)
	case errors.Is(err, store.ErrConflict):
		return rpcErrorf(codes.FailedPrecondition, "%v", err)
	case errors.Is(err, store.ErrClosed):
		return rpcErrorf(codes.Unavailable, "%v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return rpcErrorf(codes.DeadlineExceeded, "%v", err)
	case errors.Is(err, context.Canceled):
		return rpcErrorf(codes.Canceled, "%v", err)
	}
	return rpcErrorf(codes.Internal, "%v", err)
}

// grpcError converts for the gRPC adapter.
func grpcError(err error) error {
	if err == nil {
		return nil
	}
	re := toRPC(err)
	st := status.New(re.code, re.msg)
	if len(re.details) > 0 {
		details := make([]protoadapt.MessageV1, 0, len(re.details))
		for _, d := range re.details {
			details = append(details, protoadapt.MessageV1Of(d))
		}
		if withDetails, derr := st.WithDetails(details...); derr == nil {
			st = withDetails
		}
	}
	return st.Err()
}

// connectError converts for the Connect adapter.
func connectError(err error) error {
	if err == nil {
		return nil
	}
	re := toRPC(err)
	ce := connect.NewError(connect.Code(re.code), errors.New(re.msg))
	for _, d := range re.details {
		if detail, derr := connect.NewErrorDetail(d); derr == nil {
			ce.AddDetail(detail)
		}
	}
	return ce
}
