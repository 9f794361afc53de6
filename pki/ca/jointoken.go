package ca

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/store"
)

// joinTokenPrefix marks Verdict join tokens so that secret scanners and
// operators recognise them.
const joinTokenPrefix = "vjt_"

// JoinTokenRequest asks for a one-time token that lets a new instance of a
// service obtain its first certificate.
type JoinTokenRequest struct {
	Caller  spiffeid.ID
	Service string
	// Profile of the certificate the token yields; default peer.
	Profile Profile
	// Hosts are the DNS names and IPs the certificate may carry; the
	// redeeming CSR may ask for a subset, never for more.
	Hosts []string
	// TTL is how long the token stays redeemable; zero means the CA default.
	TTL time.Duration
	// Lifetime of the certificate; zero means the CA default.
	Lifetime time.Duration
}

// JoinToken is a created token. Secret is shown once: the CA keeps only its
// SHA-256 hash.
type JoinToken struct {
	Secret    string
	ID        spiffeid.ID
	Profile   Profile
	ExpiresAt time.Time
}

// CreateJoinToken creates a single-use token if the Authorizer allows the
// caller. Tokens for administrator identities are refused: those
// certificates are issued locally by the operator.
func (c *CA) CreateJoinToken(ctx context.Context, req JoinTokenRequest) (JoinToken, error) {
	id, err := spiffeid.New(c.cfg.trustDomain, req.Service)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrInvalidRequest, err)
		c.auditFailure(ctx, ActionCreateJoinToken, req.Caller, spiffeid.ID{}, req.Profile, err)
		return JoinToken{}, err
	}
	if req.Profile == "" {
		req.Profile = ProfilePeer
	}
	if err := c.authorize(ctx, AuthzRequest{Caller: req.Caller, Action: ActionCreateJoinToken, Subject: id, Profile: req.Profile}); err != nil {
		return JoinToken{}, err
	}
	fail := func(err error) (JoinToken, error) {
		c.auditFailure(ctx, ActionCreateJoinToken, req.Caller, id, req.Profile, err)
		return JoinToken{}, err
	}
	if slices.Contains(c.admins, id) {
		return fail(fmt.Errorf("%w: %s", ErrReservedIdentity, id))
	}
	if req.Profile.ExtKeyUsages() == nil {
		return fail(fmt.Errorf("%w: unknown profile %q", ErrInvalidRequest, req.Profile))
	}
	dns, ips, err := ParseHosts(req.Hosts)
	if err != nil {
		return fail(err)
	}
	if !req.Profile.AllowsHosts() && len(req.Hosts) > 0 {
		return fail(fmt.Errorf("%w: profile %s takes no DNS or IP names", ErrInvalidRequest, req.Profile))
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = c.cfg.tokenTTL
	}
	if ttl < 0 || ttl > MaxJoinTokenTTL {
		return fail(fmt.Errorf("%w: token TTL %s not in (0, %s]", ErrInvalidRequest, ttl, MaxJoinTokenTTL))
	}
	if req.Lifetime != 0 && (req.Lifetime < MinLifetime || req.Lifetime > c.cfg.maxLifetime) {
		return fail(fmt.Errorf("%w: %s not in [%s, %s]", ErrLifetime, req.Lifetime, MinLifetime, c.cfg.maxLifetime))
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fail(fmt.Errorf("ca: token: %w", err))
	}
	secret := joinTokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	now := c.cfg.now()
	tok := store.JoinToken{
		Hash: hashToken(secret), Service: req.Service, Profile: string(req.Profile),
		DNSNames: dns, Lifetime: req.Lifetime, CreatedBy: req.Caller.String(),
		CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	for _, ip := range ips {
		tok.IPAddresses = append(tok.IPAddresses, ip.String())
	}
	if err := c.store.InsertJoinToken(ctx, tok); err != nil {
		return fail(err)
	}
	c.metrics.tokens.WithLabelValues("created").Inc()
	c.cfg.audit.Audit(ctx, AuditEvent{Time: now, Action: ActionCreateJoinToken, Outcome: OutcomeSuccess,
		Caller: req.Caller, Subject: id, Profile: req.Profile, NotAfter: tok.ExpiresAt})
	return JoinToken{Secret: secret, ID: id, Profile: req.Profile, ExpiresAt: tok.ExpiresAt}, nil
}

// hashToken is what the store keys tokens by; the plaintext never reaches it.
func hashToken(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// Redeem exchanges a join token and a CSR for the first certificate of the
// token's service. The check of the token, the signing and the marking of the
// token as used happen in one store transaction: of any number of concurrent
// redemptions of one token exactly one gets a certificate. A CSR that is
// invalid or asks for names the token does not grant leaves the token unused.
func (c *CA) Redeem(ctx context.Context, token string, csrDER []byte) (*Issued, error) {
	csr, err := parseCSR(csrDER)
	if err != nil {
		c.auditFailure(ctx, ActionJoin, spiffeid.ID{}, spiffeid.ID{}, "", err)
		return nil, err
	}
	if !strings.HasPrefix(token, joinTokenPrefix) {
		c.metrics.tokens.WithLabelValues("rejected").Inc()
		c.auditFailure(ctx, ActionJoin, spiffeid.ID{}, spiffeid.ID{}, "", store.ErrTokenNotFound)
		return nil, store.ErrTokenNotFound
	}
	var (
		issued *Issued
		ir     IssueRequest
	)
	_, err = c.store.RedeemJoinToken(ctx, hashToken(token), c.cfg.now(), func(t store.JoinToken) (store.Certificate, error) {
		id, err := spiffeid.New(c.cfg.trustDomain, t.Service)
		if err != nil {
			return store.Certificate{}, fmt.Errorf("ca: token for invalid service: %w", err)
		}
		if err := checkCSRIdentity(csr, id); err != nil {
			return store.Certificate{}, err
		}
		if err := subsetHosts(csr, t.DNSNames, t.IPAddresses); err != nil {
			return store.Certificate{}, err
		}
		ir = IssueRequest{
			PublicKey: csr.PublicKey, Service: t.Service, Profile: Profile(t.Profile),
			DNSNames: t.DNSNames, IPAddresses: parseIPs(t.IPAddresses), Lifetime: t.Lifetime,
		}
		var rec store.Certificate
		issued, rec, err = c.sign(ir)
		return rec, err
	})
	if err != nil {
		if errors.Is(err, store.ErrInvalidToken) {
			c.metrics.tokens.WithLabelValues("rejected").Inc()
		}
		c.finishIssue(ctx, ActionJoin, spiffeid.ID{}, ir, nil, err)
		return nil, err
	}
	c.metrics.tokens.WithLabelValues("redeemed").Inc()
	c.finishIssue(ctx, ActionJoin, issued.ID, ir, issued, nil)
	return issued, nil
}
