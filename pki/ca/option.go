package ca

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/store"
)

// Limits and defaults.
const (
	// MinLifetime is the shortest certificate lifetime: below a minute,
	// renewal at two thirds leaves no room for a single retry.
	MinLifetime = time.Minute
	// DefaultLifetime is the lifetime of issued certificates unless configured.
	DefaultLifetime = 24 * time.Hour
	// DefaultJoinTokenTTL is how long a join token stays redeemable.
	DefaultJoinTokenTTL = 15 * time.Minute
	// MaxJoinTokenTTL bounds join token TTLs: tokens are bearer secrets.
	MaxJoinTokenTTL = 24 * time.Hour
	// backdate is subtracted from NotBefore to tolerate clock skew between
	// the CA and relying parties.
	backdate = time.Minute
)

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	trustDomain     string
	store           store.Store
	rootCertFile    string
	rootKeyFile     string
	keyAlgorithm    keyfile.Algorithm
	defaultLifetime time.Duration
	maxLifetime     time.Duration
	rootLifetime    time.Duration
	tokenTTL        time.Duration
	crlInterval     time.Duration
	crlValidity     time.Duration
	ocspValidity    time.Duration
	expiringWindow  time.Duration
	maintenance     time.Duration
	ocspURLs        []string
	crlURLs         []string
	admins          []spiffeid.ID
	authorizer      Authorizer
	audit           AuditSink
	notifier        RevocationNotifier
	registerer      prometheus.Registerer
	logger          *slog.Logger
	now             func() time.Time
}

func defaultConfig() config {
	return config{
		trustDomain:     "verdict.local",
		keyAlgorithm:    keyfile.ECDSAP256,
		defaultLifetime: DefaultLifetime,
		maxLifetime:     30 * 24 * time.Hour,
		rootLifetime:    10 * 365 * 24 * time.Hour,
		tokenTTL:        DefaultJoinTokenTTL,
		crlInterval:     time.Hour,
		ocspValidity:    10 * time.Minute,
		maintenance:     time.Minute,
		logger:          slog.Default(),
		now:             time.Now,
	}
}

// WithTrustDomain sets the trust domain of every identity the CA issues
// (default "verdict.local").
func WithTrustDomain(td string) Option {
	return optionFunc(func(c *config) { c.trustDomain = td })
}

// WithStore sets the issuance store. Without it New opens SQLite at
// <dir>/ca.db and Close closes it; a store passed here is left open.
func WithStore(s store.Store) Option {
	return optionFunc(func(c *config) { c.store = s })
}

// WithRoot makes the CA an intermediate under an operator-supplied root: on
// first start it generates an intermediate key and has the root sign it. The
// root key is read once and never written into the CA directory.
func WithRoot(certFile, keyFile string) Option {
	return optionFunc(func(c *config) { c.rootCertFile, c.rootKeyFile = certFile, keyFile })
}

// WithKeyAlgorithm sets the algorithm of the CA's own key (default ECDSA P-256).
func WithKeyAlgorithm(a keyfile.Algorithm) Option {
	return optionFunc(func(c *config) { c.keyAlgorithm = a })
}

// WithLifetime sets the default and maximum lifetimes of issued certificates.
// Lifetimes down to MinLifetime are accepted; zero keeps a value unchanged.
func WithLifetime(def, max time.Duration) Option {
	return optionFunc(func(c *config) {
		if def != 0 {
			c.defaultLifetime = def
		}
		if max != 0 {
			c.maxLifetime = max
		}
	})
}

// WithRootLifetime sets the validity of a newly created self-signed root or
// intermediate (default ten years, capped by the operator root).
func WithRootLifetime(d time.Duration) Option {
	return optionFunc(func(c *config) { c.rootLifetime = d })
}

// WithJoinTokenTTL sets the default join token TTL (default 15 minutes).
func WithJoinTokenTTL(d time.Duration) Option {
	return optionFunc(func(c *config) { c.tokenTTL = d })
}

// WithCRL sets how often the CRL is regenerated (besides on every
// revocation) and how long each CRL is valid (default: twice the interval).
func WithCRL(interval, validity time.Duration) Option {
	return optionFunc(func(c *config) { c.crlInterval, c.crlValidity = interval, validity })
}

// WithOCSPValidity sets NextUpdate-ThisUpdate of OCSP responses (default 10m).
func WithOCSPValidity(d time.Duration) Option {
	return optionFunc(func(c *config) { c.ocspValidity = d })
}

// WithExpiringWindow sets the "expiring soon" window of the metric (default:
// a third of the default lifetime, when renewal should already have happened).
func WithExpiringWindow(d time.Duration) Option {
	return optionFunc(func(c *config) { c.expiringWindow = d })
}

// WithMaintenanceInterval sets how often the background loop refreshes the
// expiring-soon gauge, prunes tokens and checks whether the CRL is due
// (default one minute).
func WithMaintenanceInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.maintenance = d })
}

// WithURLs sets the OCSP responder and CRL distribution point URLs written
// into issued certificates, so that relying parties and staplers find them.
func WithURLs(ocsp, crl []string) Option {
	return optionFunc(func(c *config) { c.ocspURLs, c.crlURLs = ocsp, crl })
}

// WithAdmins sets the administrator identities. They are what the default
// Authorizer allows, and join tokens are refused for them. Default:
// spiffe://<trust-domain>/service/admin.
func WithAdmins(ids ...spiffeid.ID) Option {
	return optionFunc(func(c *config) { c.admins = ids })
}

// WithAuthorizer replaces AdminOnly(admins...) as the authority on the
// privileged API.
func WithAuthorizer(a Authorizer) Option {
	return optionFunc(func(c *config) { c.authorizer = a })
}

// WithAuditSink sets where audit events go (default SlogAudit of the logger).
func WithAuditSink(s AuditSink) Option {
	return optionFunc(func(c *config) { c.audit = s })
}

// WithRevocationNotifier is called after every revocation, so that the
// revocation can be pushed to relying parties (NATS) at once.
func WithRevocationNotifier(n RevocationNotifier) Option {
	return optionFunc(func(c *config) { c.notifier = n })
}

// WithRegisterer registers the CA's metrics (none are registered without it).
func WithRegisterer(r prometheus.Registerer) Option {
	return optionFunc(func(c *config) { c.registerer = r })
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithClock replaces time.Now for validity periods, token expiry and CRLs;
// tests use it to move through certificate lifetimes.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now != nil {
			c.now = now
		}
	})
}
