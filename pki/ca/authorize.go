package ca

import (
	"context"
	"fmt"
	"math/big"
	"slices"

	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// Action names an operation of the CA API, as Authorizers and audit events
// see it.
type Action string

// Actions.
const (
	ActionIssue           Action = "issue" // local, in-process issuance (no Authorizer)
	ActionSign            Action = "sign"
	ActionNewCert         Action = "newcert"
	ActionRevoke          Action = "revoke"
	ActionCreateJoinToken Action = "jointoken.create"
	ActionJoin            Action = "join"  // authorized by the token itself
	ActionRenew           Action = "renew" // authorized by the current certificate
	ActionOCSPSign        Action = "ocspsign"
	ActionList            Action = "list"
)

// AuthzRequest describes an attempted operation.
type AuthzRequest struct {
	// Caller is the authenticated identity (from the mTLS certificate); zero
	// when the caller presented none.
	Caller spiffeid.ID
	Action Action
	// Subject is the identity the operation concerns (the certificate to be
	// issued, the token's service); zero when not applicable.
	Subject spiffeid.ID
	Profile Profile
	// Serial is set for revoke and ocspsign.
	Serial *big.Int
}

// Authorizer decides whether a caller may perform an operation. It is the
// hook through which Verdict policies will govern the CA's own API; an error
// refuses (the CA wraps it in ErrForbidden and audits the denial).
type Authorizer interface {
	Authorize(ctx context.Context, req AuthzRequest) error
}

// AdminOnly is the default Authorizer: only the listed administrator
// identities may use the privileged API.
func AdminOnly(admins ...spiffeid.ID) Authorizer { return adminOnly(slices.Clone(admins)) }

type adminOnly []spiffeid.ID

func (a adminOnly) Authorize(_ context.Context, req AuthzRequest) error {
	if req.Caller.IsZero() {
		return fmt.Errorf("%w: %s requires a client certificate", ErrForbidden, req.Action)
	}
	if slices.Contains(a, req.Caller) {
		return nil
	}
	return fmt.Errorf("%w: %s may not %s", ErrForbidden, req.Caller, req.Action)
}
