package ca

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// SignRequest asks the CA to sign a CSR (CFSSL "sign").
type SignRequest struct {
	// Caller is the authenticated requester, checked by the Authorizer.
	Caller spiffeid.ID
	// CSR is the DER certificate request.
	CSR []byte
	// Service names the identity; empty takes it from the CSR's spiffe:// URI
	// SAN, or else its subject common name.
	Service string
	Profile Profile
	// Hosts are DNS names and IP addresses; nil takes the CSR's.
	Hosts []string
	// Lifetime; zero means the CA default.
	Lifetime time.Duration
}

// Sign issues a certificate for a CSR if the Authorizer allows the caller.
func (c *CA) Sign(ctx context.Context, req SignRequest) (*Issued, error) {
	csr, err := parseCSR(req.CSR)
	if err != nil {
		c.auditFailure(ctx, ActionSign, req.Caller, spiffeid.ID{}, req.Profile, err)
		return nil, err
	}
	service := req.Service
	if service == "" {
		service = serviceFromCSR(csr.URIs, csr.Subject.CommonName, c.cfg.trustDomain)
	}
	id, err := spiffeid.New(c.cfg.trustDomain, service)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrInvalidRequest, err)
		c.auditFailure(ctx, ActionSign, req.Caller, spiffeid.ID{}, req.Profile, err)
		return nil, err
	}
	if err := c.authorize(ctx, AuthzRequest{Caller: req.Caller, Action: ActionSign, Subject: id, Profile: req.Profile}); err != nil {
		return nil, err
	}
	if err := checkCSRIdentity(csr, id); err != nil {
		c.auditFailure(ctx, ActionSign, req.Caller, id, req.Profile, err)
		return nil, err
	}
	ir := IssueRequest{PublicKey: csr.PublicKey, Service: service, Profile: req.Profile, Lifetime: req.Lifetime}
	if req.Hosts == nil {
		ir.DNSNames, ir.IPAddresses = csr.DNSNames, csr.IPAddresses
	} else if ir.DNSNames, ir.IPAddresses, err = ParseHosts(req.Hosts); err != nil {
		c.auditFailure(ctx, ActionSign, req.Caller, id, req.Profile, err)
		return nil, err
	}
	return c.issueAudited(ctx, ActionSign, req.Caller, ir)
}

// NewCertRequest asks the CA to generate a key and certify it (CFSSL
// "newcert"), for clients that cannot produce a CSR.
type NewCertRequest struct {
	Caller   spiffeid.ID
	Service  string
	Profile  Profile
	Hosts    []string
	Lifetime time.Duration
	// KeyAlgorithm of the generated key; zero means ECDSA P-256.
	KeyAlgorithm keyfile.Algorithm
}

// NewCert generates a key pair and issues a certificate for it if the
// Authorizer allows the caller. The private key is returned to the caller
// and never stored.
func (c *CA) NewCert(ctx context.Context, req NewCertRequest) (*Issued, crypto.Signer, error) {
	id, err := spiffeid.New(c.cfg.trustDomain, req.Service)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrInvalidRequest, err)
		c.auditFailure(ctx, ActionNewCert, req.Caller, spiffeid.ID{}, req.Profile, err)
		return nil, nil, err
	}
	if err := c.authorize(ctx, AuthzRequest{Caller: req.Caller, Action: ActionNewCert, Subject: id, Profile: req.Profile}); err != nil {
		return nil, nil, err
	}
	dns, ips, err := ParseHosts(req.Hosts)
	if err != nil {
		c.auditFailure(ctx, ActionNewCert, req.Caller, id, req.Profile, err)
		return nil, nil, err
	}
	key, err := keyfile.Generate(req.KeyAlgorithm)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrInvalidRequest, err)
		c.auditFailure(ctx, ActionNewCert, req.Caller, id, req.Profile, err)
		return nil, nil, err
	}
	issued, err := c.issueAudited(ctx, ActionNewCert, req.Caller, IssueRequest{
		PublicKey: key.Public(), Service: req.Service, Profile: req.Profile,
		DNSNames: dns, IPAddresses: ips, Lifetime: req.Lifetime,
	})
	if err != nil {
		return nil, nil, err
	}
	return issued, key, nil
}

// authorize asks the Authorizer and audits refusals. Any Authorizer error
// refuses: an unavailable policy engine must fail closed.
func (c *CA) authorize(ctx context.Context, req AuthzRequest) error {
	err := c.cfg.authorizer.Authorize(ctx, req)
	if err == nil {
		return nil
	}
	if !errors.Is(err, ErrForbidden) {
		err = fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	c.cfg.audit.Audit(ctx, AuditEvent{
		Time: c.cfg.now(), Action: req.Action, Outcome: OutcomeDenied,
		Caller: req.Caller, Subject: req.Subject, Profile: req.Profile, Serial: req.Serial, Err: err,
	})
	return err
}

// auditFailure records a refused request that never reached signing.
func (c *CA) auditFailure(ctx context.Context, action Action, caller, subject spiffeid.ID, p Profile, err error) {
	c.cfg.audit.Audit(ctx, AuditEvent{
		Time: c.cfg.now(), Action: action, Outcome: OutcomeFailed,
		Caller: caller, Subject: subject, Profile: p, Err: err,
	})
}

// serviceFromCSR picks the service name a CSR asks for: its spiffe:// URI in
// our trust domain, else its common name.
func serviceFromCSR(uris []*url.URL, cn, td string) string {
	for _, u := range uris {
		if id, err := spiffeid.FromURI(u); err == nil && id.MemberOf(td) {
			return id.Service()
		}
	}
	return cn
}
