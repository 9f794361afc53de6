package token

import "context"

// KeySource supplies a Verifier with verification keys. *JWKS is a fixed
// source; *KeySet keeps a fetched set current and rotates it.
type KeySource interface {
	// Current returns the key set to verify with now. It is called on every
	// verification and must be cheap.
	Current(ctx context.Context) (*JWKS, error)
	// Refresh is called when a token names a kid that Current lacks. It
	// returns the newest set it can, with an error (for example wrapping
	// ErrRateLimited) when it could not look for a newer one.
	Refresh(ctx context.Context) (*JWKS, error)
}
