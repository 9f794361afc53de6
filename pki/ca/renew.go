package ca

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/store"
)

// Renew issues a successor to the certificate its holder authenticated with
// (the mTLS peer chain, leaf first) for the key in csrDER. The successor
// keeps identity, profile, names and lifetime; the current certificate must
// chain to this CA, be on record, unrevoked and unexpired. Holding the
// current certificate is the authorization, so the Authorizer is not asked.
func (c *CA) Renew(ctx context.Context, peerChain []*x509.Certificate, csrDER []byte) (*Issued, error) {
	if len(peerChain) == 0 {
		err := fmt.Errorf("%w: no client certificate", ErrNotRenewable)
		c.auditFailure(ctx, ActionRenew, spiffeid.ID{}, spiffeid.ID{}, "", err)
		return nil, err
	}
	current := peerChain[0]
	id, _ := spiffeid.FromCertificate(current)
	fail := func(p Profile, err error) (*Issued, error) {
		c.auditFailure(ctx, ActionRenew, id, id, p, err)
		return nil, err
	}
	now := c.cfg.now()
	inter := x509.NewCertPool()
	for _, x := range append(c.Intermediates(), peerChain[1:]...) {
		inter.AddCert(x)
	}
	if _, err := current.Verify(x509.VerifyOptions{
		Roots: c.bundle.Pool(), Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return fail("", fmt.Errorf("%w: %w", ErrNotRenewable, err))
	}
	if id.IsZero() || !id.MemberOf(c.cfg.trustDomain) {
		return fail("", fmt.Errorf("%w: certificate has no identity in %s", ErrNotRenewable, c.cfg.trustDomain))
	}
	rec, err := c.store.Certificate(ctx, current.SerialNumber)
	if errors.Is(err, store.ErrNotFound) {
		return fail("", fmt.Errorf("%w: serial %x is not on record", ErrNotRenewable, current.SerialNumber))
	}
	if err != nil {
		return fail("", err)
	}
	profile := Profile(rec.Profile)
	if rec.Status != store.StatusGood {
		return fail(profile, fmt.Errorf("%w: serial %x is revoked", ErrNotRenewable, current.SerialNumber))
	}
	csr, err := parseCSR(csrDER)
	if err != nil {
		return fail(profile, err)
	}
	if err := checkCSRIdentity(csr, id); err != nil {
		return fail(profile, err)
	}
	if err := subsetHosts(csr, rec.DNSNames, rec.IPAddresses); err != nil {
		return fail(profile, err)
	}
	lifetime := rec.NotAfter.Sub(rec.NotBefore) - backdate
	if lifetime < MinLifetime {
		lifetime = MinLifetime
	}
	if lifetime > c.cfg.maxLifetime {
		lifetime = c.cfg.maxLifetime
	}
	issued, err := c.issueAudited(ctx, ActionRenew, id, IssueRequest{
		PublicKey: csr.PublicKey, Service: id.Service(), Profile: profile,
		DNSNames: rec.DNSNames, IPAddresses: parseIPs(rec.IPAddresses), Lifetime: lifetime,
	})
	if err != nil {
		return nil, err
	}
	c.metrics.renewed.WithLabelValues(string(profile)).Inc()
	return issued, nil
}
