package ca

import (
	"context"
	"crypto/x509"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/ocspresponder"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/store"
	"github.com/verdict-authz/verdict/pki/store/sqlite"
	"github.com/verdict-authz/verdict/pki/x509bundle"
)

// CA is a running certificate authority. All methods are safe for concurrent use.
type CA struct {
	cfg       config
	auth      *authority
	bundle    *x509bundle.Bundle
	store     store.Store
	ownsStore bool
	revoked   *revocation.Set
	ocsp      *ocspresponder.Responder
	metrics   *metrics
	admins    []spiffeid.ID

	crlMu sync.Mutex
	crl   crlHolder

	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// New opens (or initializes) the CA kept in dir and returns once it can
// issue: keys loaded or created, store open, revocations loaded, first CRL
// signed. Background maintenance runs until Close.
func New(ctx context.Context, dir string, opts ...Option) (*CA, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	auth, err := loadOrCreateAuthority(dir, &cfg)
	if err != nil {
		return nil, err
	}
	bundle, err := x509bundle.New(auth.root)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	c := &CA{cfg: cfg, auth: auth, bundle: bundle, store: cfg.store, revoked: revocation.NewSet(), done: make(chan struct{})}
	if c.store == nil {
		s, err := sqlite.Open(ctx, filepath.Join(dir, databaseFile))
		if err != nil {
			return nil, fmt.Errorf("ca: %w", err)
		}
		c.store, c.ownsStore = s, true
	}
	fail := func(err error) (*CA, error) {
		if c.metrics != nil {
			c.metrics.unregister(cfg.registerer)
		}
		if c.ownsStore {
			_ = c.store.Close()
		}
		return nil, err
	}
	c.admins = cfg.admins
	if len(c.admins) == 0 {
		id, err := spiffeid.New(cfg.trustDomain, "admin")
		if err != nil {
			return fail(err)
		}
		c.admins = []spiffeid.ID{id}
	}
	if c.cfg.authorizer == nil {
		c.cfg.authorizer = AdminOnly(c.admins...)
	}
	if c.cfg.audit == nil {
		c.cfg.audit = SlogAudit(cfg.logger)
	}
	if c.metrics, err = newMetrics(cfg.registerer); err != nil {
		return fail(fmt.Errorf("ca: metrics: %w", err))
	}
	c.ocsp, err = ocspresponder.New(auth.issuer, auth.signer, c,
		ocspresponder.WithValidity(cfg.ocspValidity), ocspresponder.WithClock(cfg.now), ocspresponder.WithLogger(cfg.logger))
	if err != nil {
		return fail(fmt.Errorf("ca: %w", err))
	}
	if err := c.loadRevocations(ctx); err != nil {
		return fail(err)
	}
	if err := c.regenerateCRL(ctx); err != nil {
		return fail(err)
	}
	c.updateExpiring(ctx)
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	go c.maintain(bg)
	return c, nil
}

func (cfg *config) validate() error {
	if err := spiffeid.ValidateTrustDomain(cfg.trustDomain); err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	if cfg.keyAlgorithm == keyfile.Ed25519 {
		return fmt.Errorf("%w: Ed25519 CA keys are not supported (OCSP clients cannot verify them)", ErrInvalidRequest)
	}
	if cfg.defaultLifetime < MinLifetime || cfg.maxLifetime < cfg.defaultLifetime {
		return fmt.Errorf("%w: default %s, max %s (minimum %s)", ErrLifetime, cfg.defaultLifetime, cfg.maxLifetime, MinLifetime)
	}
	if cfg.tokenTTL <= 0 || cfg.tokenTTL > MaxJoinTokenTTL {
		return fmt.Errorf("%w: join token TTL %s", ErrInvalidRequest, cfg.tokenTTL)
	}
	if cfg.crlInterval <= 0 {
		return fmt.Errorf("%w: CRL interval %s", ErrInvalidRequest, cfg.crlInterval)
	}
	if cfg.crlValidity <= 0 {
		cfg.crlValidity = 2 * cfg.crlInterval
	}
	if cfg.expiringWindow <= 0 {
		cfg.expiringWindow = cfg.defaultLifetime / 3
	}
	if cfg.maintenance <= 0 {
		cfg.maintenance = time.Minute
	}
	for _, id := range cfg.admins {
		if !id.MemberOf(cfg.trustDomain) {
			return fmt.Errorf("%w: admin %q is not in trust domain %q", ErrInvalidRequest, id, cfg.trustDomain)
		}
	}
	return nil
}

func (c *CA) loadRevocations(ctx context.Context) error {
	revoked, err := c.store.RevokedUnexpired(ctx, c.cfg.now())
	if err != nil {
		return fmt.Errorf("ca: load revocations: %w", err)
	}
	for _, r := range revoked {
		c.revoked.Add(revocation.Entry{Serial: r.Serial, RevokedAt: r.RevokedAt, Reason: r.RevocationReason, NotAfter: r.NotAfter})
	}
	return nil
}

// TrustDomain returns the trust domain of every identity this CA issues.
func (c *CA) TrustDomain() string { return c.cfg.trustDomain }

// Bundle returns the trust bundle relying parties need: the root.
func (c *CA) Bundle() *x509bundle.Bundle { return c.bundle }

// Root returns the trust anchor (self-signed, or the operator's root).
func (c *CA) Root() *x509.Certificate { return c.auth.root }

// Issuer returns the certificate that signs leaves, CRLs and OCSP responses.
func (c *CA) Issuer() *x509.Certificate { return c.auth.issuer }

// Intermediates returns the certificates between leaves and the root
// (empty for a self-signed CA); they are sent along with every leaf.
func (c *CA) Intermediates() []*x509.Certificate {
	return append([]*x509.Certificate(nil), c.auth.intermediates...)
}

// Lifetimes returns the default and maximum certificate lifetimes, as the
// info endpoint advertises them.
func (c *CA) Lifetimes() (def, max time.Duration) { return c.cfg.defaultLifetime, c.cfg.maxLifetime }

// Admins returns the administrator identities.
func (c *CA) Admins() []spiffeid.ID { return append([]spiffeid.ID(nil), c.admins...) }

// Revocations is the live set of revoked serials. The CA adds to it on every
// revocation; a TLS configuration in the same process uses it as its
// RevocationChecker so that a revocation applies to the next handshake.
func (c *CA) Revocations() *revocation.Set { return c.revoked }

// OCSPResponder returns the RFC 6960 responder for this CA's leaves.
func (c *CA) OCSPResponder() *ocspresponder.Responder { return c.ocsp }

// Store returns the issuance store, for listings and audits.
func (c *CA) Store() store.Store { return c.store }

// Close stops background work and closes the store if New opened it. It is
// idempotent.
func (c *CA) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		<-c.done
		if c.ownsStore {
			c.closeErr = c.store.Close()
		}
	})
	return c.closeErr
}

func (c *CA) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}
