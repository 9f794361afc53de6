package sdk

import "errors"

// Sentinel errors, for errors.Is. Decisions that fail closed wrap the
// engine's own sentinels as well (pdp.ErrNoPolicy, pdp.ErrBadRequest,
// context.Canceled, ...).
var (
	// ErrNoPolicySource is returned by New when none of WithBundleSource,
	// WithLastKnownGood and WithPolicy is given: such a PDP could never
	// decide anything.
	ErrNoPolicySource = errors.New("sdk: no policy source configured")
	// ErrConfig reports an option that is missing a companion or is
	// invalid (for example WithLastKnownGood without WithTrustedKeys).
	ErrConfig = errors.New("sdk: invalid configuration")
	// ErrClosed is wrapped by decisions made after Close: they fail closed.
	ErrClosed = errors.New("sdk: PDP closed")
	// ErrUnauthenticated is wrapped when an enforcement point refuses a
	// call because its bearer token is invalid (or absent when
	// RequireToken is set).
	ErrUnauthenticated = errors.New("sdk: unauthenticated")
	// ErrDenied is wrapped when an enforcement point refuses a call: the
	// decision was not Permit, or it carried an obligation the PEP cannot
	// fulfil.
	ErrDenied = errors.New("sdk: access denied")
	// ErrNotRepresentable is wrapped by Remote when a request cannot be
	// sent in the AuthZEN shape of the DecisionService without changing its
	// meaning (an attribute issuer, a non-standard category, a missing
	// subject type...). Such a request fails closed.
	ErrNotRepresentable = errors.New("sdk: request not representable for the remote PDP")
	// ErrRemote is wrapped when the remote PDP could not be asked or gave
	// an answer the client cannot trust. Such a request fails closed.
	ErrRemote = errors.New("sdk: remote PDP")
)
