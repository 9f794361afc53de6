package caservice

import (
	"errors"

	"connectrpc.com/connect"

	"github.com/verdict-authz/verdict/pki/ca"
)

// errNoClientCert refuses calls that need an authenticated caller when the
// peer presented no certificate.
var errNoClientCert = errors.New("caservice: a client certificate is required")

// code maps an error of pki/ca to an RPC code, and the message a caller may
// see. Join token failures never say why (unknown, expired, used), and
// internal errors carry no detail, as in the REST API.
func code(err error) (connect.Code, string) {
	switch {
	case errors.Is(err, ca.ErrInvalidToken):
		return connect.CodeUnauthenticated, "invalid join token"
	case errors.Is(err, errNoClientCert):
		return connect.CodeUnauthenticated, err.Error()
	case errors.Is(err, ca.ErrForbidden), errors.Is(err, ca.ErrReservedIdentity), errors.Is(err, ca.ErrNotRenewable):
		return connect.CodePermissionDenied, err.Error()
	case errors.Is(err, ca.ErrInvalidRequest), errors.Is(err, ca.ErrInvalidCSR), errors.Is(err, ca.ErrLifetime):
		return connect.CodeInvalidArgument, err.Error()
	case errors.Is(err, ca.ErrNotFound):
		return connect.CodeNotFound, err.Error()
	case errors.Is(err, ca.ErrClosed):
		return connect.CodeUnavailable, "CA is shutting down"
	}
	return connect.CodeInternal, "internal error"
}
