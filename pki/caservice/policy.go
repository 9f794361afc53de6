package caservice

import (
	"context"
	"fmt"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pki/ca"
)

// Attribute ids of the requests PolicyAuthorizer sends, so that policy
// authors know what a CA policy can test. Categories are the XACML ones of
// package pdp.
const (
	// AttrWorkload (access-subject) is the caller's SPIFFE ID, as for every
	// mTLS caller of the platform; empty without a client certificate.
	AttrWorkload = "workload"
	// AttrSubjectID (access-subject) is the caller's SPIFFE ID too, under the
	// standard XACML subject-id.
	AttrSubjectID = "urn:oasis:names:tc:xacml:1.0:subject:subject-id"
	// AttrCallerService (access-subject) is the service name of the caller.
	AttrCallerService = "service"
	// AttrActionName (action) is the CA action: sign, newcert, revoke,
	// jointoken.create, ocspsign, list.
	AttrActionName = "name"
	// AttrResourceType (resource) is always "certificate".
	AttrResourceType = "type"
	// AttrResourceID (resource) is the SPIFFE ID the operation concerns.
	AttrResourceID = "id"
	// AttrResourceService (resource) is its service name.
	AttrResourceService = "service"
	// AttrProfile (resource) is the certificate profile: server, client, peer.
	AttrProfile = "profile"
	// AttrSerial (resource) is the decimal serial, for revoke and ocspsign.
	AttrSerial = "serial"
)

// Decider decides XACML requests; *pdp.Engine implements it. It is the one
// method PolicyAuthorizer needs, so tests and remote PDP clients fit too.
type Decider interface {
	Decide(ctx context.Context, req *pdp.Request) (*pdp.Decision, error)
}

// PolicyAuthorizer returns a ca.Authorizer that asks Verdict policies
// whether a caller may use the CA's privileged API, so that the CA is
// governed like every other service. Only a Permit without obligations
// allows: the CA discharges no obligations, and XACML requires a PEP to
// refuse a Permit whose obligations it cannot fulfil. Deny, NotApplicable,
// Indeterminate and engine errors refuse (fail closed).
func PolicyAuthorizer(d Decider) ca.Authorizer { return policyAuthorizer{d: d} }

type policyAuthorizer struct{ d Decider }

func (p policyAuthorizer) Authorize(ctx context.Context, req ca.AuthzRequest) error {
	dec, err := p.d.Decide(ctx, AuthzRequest(req))
	if err != nil {
		return fmt.Errorf("%w: policy evaluation failed: %w", ca.ErrForbidden, err)
	}
	caller := req.Caller.String()
	if caller == "" {
		caller = "anonymous caller"
	}
	switch {
	case dec.Effect != pdp.EffectPermit:
		return fmt.Errorf("%w: policy decided %s for %s to %s (decision %s)", ca.ErrForbidden, dec.Effect, caller, req.Action, dec.ID)
	case len(dec.Obligations) > 0:
		return fmt.Errorf("%w: policy permits %s to %s only with obligations the CA cannot discharge (%s; decision %s)",
			ca.ErrForbidden, caller, req.Action, dec.Obligations[0].ID, dec.ID)
	}
	return nil
}

// AuthzRequest turns a CA authorization request into the XACML request
// PolicyAuthorizer sends, for policy tests and tooling.
func AuthzRequest(req ca.AuthzRequest) *pdp.Request {
	r := &pdp.Request{}
	add := func(cat, id, v string) {
		if v != "" {
			r.Add(cat, id, pdp.Value{Type: "string", Lexical: v})
		}
	}
	if !req.Caller.IsZero() {
		add(pdp.CategorySubject, AttrWorkload, req.Caller.String())
		add(pdp.CategorySubject, AttrSubjectID, req.Caller.String())
		add(pdp.CategorySubject, AttrCallerService, req.Caller.Service())
	}
	add(pdp.CategoryAction, AttrActionName, string(req.Action))
	add(pdp.CategoryResource, AttrResourceType, "certificate")
	if !req.Subject.IsZero() {
		add(pdp.CategoryResource, AttrResourceID, req.Subject.String())
		add(pdp.CategoryResource, AttrResourceService, req.Subject.Service())
	}
	add(pdp.CategoryResource, AttrProfile, string(req.Profile))
	if req.Serial != nil {
		add(pdp.CategoryResource, AttrSerial, req.Serial.String())
	}
	return r
}
