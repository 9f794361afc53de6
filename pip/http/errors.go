package http

import "errors"

// Sentinel errors, matched with errors.Is. All but ErrInsecure are fetch
// failures (the engine makes what needed the attributes Indeterminate).
var (
	// ErrInsecure means the configuration would send attribute queries
	// without proper TLS: an https endpoint without a TLS configuration, a
	// TLS configuration that skips verification, or plain http to an
	// endpoint that is not loopback (or without the explicit opt-out).
	ErrInsecure = errors.New("insecure PIP endpoint configuration")
	// ErrStatus means the endpoint answered with a status other than 200,
	// 204 or 404 (redirects included: they are not followed).
	ErrStatus = errors.New("PIP endpoint returned an error status")
	// ErrResponseTooLarge means the body exceeded WithMaxResponseBytes.
	ErrResponseTooLarge = errors.New("PIP response too large")
	// ErrBadResponse means the body was not a JSON object of attribute
	// values.
	ErrBadResponse = errors.New("malformed PIP response")
)
