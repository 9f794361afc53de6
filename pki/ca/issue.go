package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/url"
	"slices"
	"time"

	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/store"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// IssueRequest is a fully decided issuance: who, for which key, with which
// profile and names. Sign, NewCert, Redeem and Renew all reduce to it.
type IssueRequest struct {
	// PublicKey is the subject's key (from a verified CSR, or generated).
	PublicKey crypto.PublicKey
	// Service is the service name; the identity is
	// spiffe://<trust-domain>/service/<Service>.
	Service string
	Profile Profile
	// DNSNames and IPAddresses are only allowed for server and peer profiles.
	DNSNames    []string
	IPAddresses []net.IP
	// Lifetime of the certificate; zero means the CA default.
	Lifetime time.Duration
}

// Issued is a newly signed certificate.
type Issued struct {
	ID      spiffeid.ID
	Profile Profile
	// Leaf is the new certificate.
	Leaf *x509.Certificate
	// Intermediates are the CA certificates between Leaf and the root.
	Intermediates []*x509.Certificate
}

// Chain returns the leaf followed by the intermediates: what a workload
// presents to its peers.
func (i *Issued) Chain() []*x509.Certificate {
	return append([]*x509.Certificate{i.Leaf}, i.Intermediates...)
}

// ChainPEM returns Chain in PEM form.
func (i *Issued) ChainPEM() []byte { return x509svid.EncodeCertificates(i.Chain()) }

// Issue signs and records a certificate for a trusted, in-process caller
// (the `verdict up` bootstrap minting the admin certificate, the CA server's
// own serving certificate). It does not consult the Authorizer but is audited.
func (c *CA) Issue(ctx context.Context, req IssueRequest) (*Issued, error) {
	return c.issueAudited(ctx, ActionIssue, spiffeid.ID{}, req)
}

// issueAudited signs, stores, counts and audits an issuance.
func (c *CA) issueAudited(ctx context.Context, action Action, caller spiffeid.ID, req IssueRequest) (*Issued, error) {
	issued, rec, err := c.sign(req)
	if err == nil {
		err = c.store.InsertCertificate(ctx, rec)
	}
	c.finishIssue(ctx, action, caller, req, issued, err)
	if err != nil {
		return nil, err
	}
	return issued, nil
}

// finishIssue does the bookkeeping shared by every issuance path.
func (c *CA) finishIssue(ctx context.Context, action Action, caller spiffeid.ID, req IssueRequest, issued *Issued, err error) {
	ev := AuditEvent{Time: c.cfg.now(), Action: action, Caller: caller, Profile: req.Profile, Outcome: OutcomeSuccess}
	if id, idErr := spiffeid.New(c.cfg.trustDomain, req.Service); idErr == nil {
		ev.Subject = id
	}
	if err != nil {
		ev.Outcome, ev.Err = OutcomeFailed, err
		c.cfg.audit.Audit(ctx, ev)
		return
	}
	ev.Serial, ev.NotAfter = issued.Leaf.SerialNumber, issued.Leaf.NotAfter
	c.metrics.issued.WithLabelValues(string(req.Profile), string(action)).Inc()
	c.cfg.audit.Audit(ctx, ev)
}

// sign validates req and creates the certificate and its store record; it
// does not store it, so that join token redemption can do both in one
// transaction.
func (c *CA) sign(req IssueRequest) (*Issued, store.Certificate, error) {
	if c.closed() {
		return nil, store.Certificate{}, ErrClosed
	}
	id, err := spiffeid.New(c.cfg.trustDomain, req.Service)
	if err != nil {
		return nil, store.Certificate{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	if req.Profile.ExtKeyUsages() == nil {
		return nil, store.Certificate{}, fmt.Errorf("%w: unknown profile %q", ErrInvalidRequest, req.Profile)
	}
	if !req.Profile.AllowsHosts() && (len(req.DNSNames) > 0 || len(req.IPAddresses) > 0) {
		return nil, store.Certificate{}, fmt.Errorf("%w: profile %s takes no DNS or IP names", ErrInvalidRequest, req.Profile)
	}
	for _, d := range req.DNSNames {
		if err := validateDNSName(d); err != nil {
			return nil, store.Certificate{}, err
		}
	}
	if req.PublicKey == nil {
		return nil, store.Certificate{}, fmt.Errorf("%w: no public key", ErrInvalidRequest)
	}
	lifetime := req.Lifetime
	if lifetime == 0 {
		lifetime = c.cfg.defaultLifetime
	}
	if lifetime < MinLifetime || lifetime > c.cfg.maxLifetime {
		return nil, store.Certificate{}, fmt.Errorf("%w: %s not in [%s, %s]", ErrLifetime, lifetime, MinLifetime, c.cfg.maxLifetime)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, store.Certificate{}, err
	}
	now := c.cfg.now()
	notAfter := now.Add(lifetime)
	if notAfter.After(c.auth.issuer.NotAfter) {
		notAfter = c.auth.issuer.NotAfter
	}
	usage := x509.KeyUsageDigitalSignature
	if _, isRSA := req.PublicKey.(*rsa.PublicKey); isRSA {
		usage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: req.Service, Organization: []string{c.cfg.trustDomain}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              usage,
		ExtKeyUsage:           req.Profile.ExtKeyUsages(),
		BasicConstraintsValid: true,
		URIs:                  []*url.URL{id.URL()},
		DNSNames:              slices.Clone(req.DNSNames),
		IPAddresses:           slices.Clone(req.IPAddresses),
		OCSPServer:            c.cfg.ocspURLs,
		CRLDistributionPoints: c.cfg.crlURLs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.auth.issuer, req.PublicKey, c.auth.signer)
	if err != nil {
		return nil, store.Certificate{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, store.Certificate{}, fmt.Errorf("ca: parse issued certificate: %w", err)
	}
	issued := &Issued{ID: id, Profile: req.Profile, Leaf: leaf, Intermediates: c.Intermediates()}
	rec := store.Certificate{
		Serial:    serial,
		Service:   req.Service,
		Subject:   leaf.Subject.String(),
		URIs:      []string{id.String()},
		DNSNames:  slices.Clone(leaf.DNSNames),
		Profile:   string(req.Profile),
		NotBefore: leaf.NotBefore,
		NotAfter:  leaf.NotAfter,
		Status:    store.StatusGood,
		PEM:       x509svid.EncodeCertificates([]*x509.Certificate{leaf}),
	}
	for _, ip := range leaf.IPAddresses {
		rec.IPAddresses = append(rec.IPAddresses, ip.String())
	}
	return issued, rec, nil
}

// ParseHosts splits CFSSL-style "hosts" into DNS names and IP addresses.
func ParseHosts(hosts []string) (dns []string, ips []net.IP, err error) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if err := validateDNSName(h); err != nil {
			return nil, nil, err
		}
		dns = append(dns, h)
	}
	return dns, ips, nil
}

// validateDNSName accepts lowercase host names, optionally with a leading
// "*." wildcard label.
func validateDNSName(name string) error {
	bad := func() error { return fmt.Errorf("%w: invalid DNS name %q", ErrInvalidRequest, name) }
	n := name
	if len(n) > 2 && n[:2] == "*." {
		n = n[2:]
	}
	if n == "" || len(n) > 253 {
		return bad()
	}
	label := 0
	for i := 0; i < len(n); i++ {
		ch := n[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '_':
			label++
		case ch == '-':
			if label == 0 || i+1 == len(n) || n[i+1] == '.' {
				return bad()
			}
			label++
		case ch == '.':
			if label == 0 {
				return bad()
			}
			label = 0
		default:
			return bad()
		}
		if label > 63 {
			return bad()
		}
	}
	if label == 0 {
		return bad()
	}
	return nil
}

// parseCSR decodes and verifies a DER certificate request. Its URI SANs, if
// any, must name exactly want (when want is not zero).
func parseCSR(der []byte) (*x509.CertificateRequest, error) {
	if len(der) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidCSR)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCSR, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidCSR, err)
	}
	return csr, nil
}

// checkCSRIdentity refuses a CSR whose URI SANs ask for another identity
// than the one being issued; silently dropping them would hide a mistake.
func checkCSRIdentity(csr *x509.CertificateRequest, id spiffeid.ID) error {
	for _, u := range csr.URIs {
		if u.String() != id.String() {
			return fmt.Errorf("%w: requests URI %q but the identity is %q", ErrInvalidCSR, u, id)
		}
	}
	return nil
}

// subsetHosts checks that the CSR asks for no DNS/IP name outside allowed.
func subsetHosts(csr *x509.CertificateRequest, dns []string, ips []string) error {
	for _, d := range csr.DNSNames {
		if !slices.Contains(dns, d) {
			return fmt.Errorf("%w: DNS name %q not authorized", ErrInvalidCSR, d)
		}
	}
	for _, ip := range csr.IPAddresses {
		if !slices.Contains(ips, ip.String()) {
			return fmt.Errorf("%w: IP address %s not authorized", ErrInvalidCSR, ip)
		}
	}
	return nil
}

func parseIPs(ss []string) []net.IP {
	out := make([]net.IP, 0, len(ss))
	for _, s := range ss {
		if ip := net.ParseIP(s); ip != nil {
			out = append(out, ip)
		}
	}
	return out
}
