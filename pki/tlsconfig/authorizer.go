package tlsconfig

import (
	"fmt"
	"slices"

	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// Authorizer decides whether a verified peer identity is the one expected on
// this connection. An error refuses the handshake with ErrWrongIdentity.
type Authorizer interface {
	AuthorizeID(id spiffeid.ID) error
}

// AuthorizeIDs accepts exactly the listed identities (a client that knows
// which service it is calling).
func AuthorizeIDs(ids ...spiffeid.ID) Authorizer { return authorizeIDs(slices.Clone(ids)) }

type authorizeIDs []spiffeid.ID

func (a authorizeIDs) AuthorizeID(id spiffeid.ID) error {
	if slices.Contains(a, id) {
		return nil
	}
	return fmt.Errorf("%q is not one of %v", id, []spiffeid.ID(a))
}

// AuthorizeMemberOf accepts any service of a trust domain (a server open to
// every workload of the platform; request-level policy decides the rest).
func AuthorizeMemberOf(trustDomain string) Authorizer { return memberOf(trustDomain) }

type memberOf string

func (m memberOf) AuthorizeID(id spiffeid.ID) error {
	if id.MemberOf(string(m)) {
		return nil
	}
	return fmt.Errorf("%q is not in trust domain %q", id, string(m))
}

// AuthorizeAny accepts any identity that chains to the bundle, including
// certificates without a spiffe:// URI. Use it only where another layer
// identifies the peer.
func AuthorizeAny() Authorizer { return anyID{} }

type anyID struct{}

func (anyID) AuthorizeID(spiffeid.ID) error { return nil }
