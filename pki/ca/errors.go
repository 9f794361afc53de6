package ca

import (
	"errors"

	"github.com/verdict-authz/verdict/pki/store"
)

// Errors returned by the CA; callers (API layers mapping to status codes,
// tests) match them with errors.Is.
var (
	// ErrForbidden means the Authorizer refused the caller.
	ErrForbidden = errors.New("ca: forbidden")
	// ErrInvalidRequest means a request field is missing or malformed.
	ErrInvalidRequest = errors.New("ca: invalid request")
	// ErrInvalidCSR means a certificate signing request cannot be parsed, its
	// signature is wrong, or it asks for names it may not have.
	ErrInvalidCSR = errors.New("ca: invalid certificate request")
	// ErrLifetime means a requested lifetime is outside [MinLifetime, max].
	ErrLifetime = errors.New("ca: lifetime out of range")
	// ErrNotRenewable means the presented certificate cannot be renewed: not
	// ours, unknown, revoked or expired.
	ErrNotRenewable = errors.New("ca: certificate not renewable")
	// ErrReservedIdentity means a join token was requested for an
	// administrator identity; admin certificates are issued locally only.
	ErrReservedIdentity = errors.New("ca: identity is reserved")
	// ErrStateMismatch means the on-disk CA state contradicts the options
	// (for example another root than the one supplied).
	ErrStateMismatch = errors.New("ca: on-disk state does not match configuration")
	// ErrClosed means the CA was closed.
	ErrClosed = errors.New("ca: closed")

	// ErrNotFound is store.ErrNotFound: no certificate has the serial.
	ErrNotFound = store.ErrNotFound
	// ErrAlreadyRevoked is store.ErrAlreadyRevoked.
	ErrAlreadyRevoked = store.ErrAlreadyRevoked
	// ErrInvalidToken is store.ErrInvalidToken: unknown, expired or used join token.
	ErrInvalidToken = store.ErrInvalidToken
)
