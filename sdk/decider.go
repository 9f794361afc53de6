package sdk

import (
	"context"

	"github.com/verdict-authz/verdict/pdp"
)

// Decider decides access requests. It is the one thing an enforcement
// point needs, so that the same middleware works in front of the embedded
// engine (*PDP) and a remote PDP (*Remote), and tests can substitute
// their own.
//
// Implementations in this package never fail open: when err is non-nil the
// decision is still non-nil, a Deny whose Status says why, so that a caller
// that only looks at the effect denies.
type Decider interface {
	Decide(ctx context.Context, req *pdp.Request) (*pdp.Decision, error)
}
