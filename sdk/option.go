package sdk

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pip"
	"github.com/verdict-authz/verdict/token"
)

// Option configures New. Options are values of types with an unexported
// method, so that only this package can define them and New can evolve
// without breaking callers.
type Option interface{ applyToPDP(*config) }

// SharedOption configures both New and the enforcement points
// (Middleware, the gRPC interceptors, NewConnectInterceptor), for settings
// that mean the same thing in both places.
type SharedOption interface {
	Option
	PEPOption
}

// DefaultDecisionLogBuffer is the number of decision-log records queued
// for the DecisionLogger before new ones are dropped (and counted).
const DefaultDecisionLogBuffer = 4096

type config struct {
	logger      *slog.Logger
	service     string
	source      BundleSource
	lkgDir      string
	trust       *bundle.TrustStore
	policy      *pdp.Policy
	pips        *pip.Set
	verifier    *token.Verifier
	decisionLog DecisionLogger
	logBuffer   int
	registerer  prometheus.Registerer
	engineOpts  []pdp.Option
}

type optionFunc func(*config)

func (f optionFunc) applyToPDP(c *config) { f(c) }

// WithBundleSource sets where policies come from in production: New blocks
// until the source has activated its first policy (unless a last-known-good
// bundle was activated first), and the source keeps swapping in new
// revisions until Close.
func WithBundleSource(s BundleSource) Option {
	return optionFunc(func(c *config) { c.source = s })
}

// WithService names the service the PDP protects. It selects the
// last-known-good bundle on disk and is written into every decision-log
// record, so that auditors can tell services apart.
func WithService(name string) Option {
	return optionFunc(func(c *config) { c.service = name })
}

// WithLastKnownGood makes New activate the service's bundle stored in dir
// (bundle.WriteFile's layout) before asking the bundle source, so that a
// service restarts and decides even while the bundle stream is
// unreachable. The bundle is verified against WithTrustedKeys exactly as
// one from the network; a missing or invalid file is logged and skipped.
// It requires WithService and WithTrustedKeys.
func WithLastKnownGood(dir string) Option {
	return optionFunc(func(c *config) { c.lkgDir = dir })
}

// WithTrustedKeys sets the bundle-signing keys the PDP trusts, to verify
// the last-known-good bundle (see bundle.LoadTrustStore for the key file).
func WithTrustedKeys(trust *bundle.TrustStore) Option {
	return optionFunc(func(c *config) { c.trust = trust })
}

// WithPolicy activates p before anything else: for tests, and for services
// that embed their policy in the binary. It is activated as given, with no
// signature check.
func WithPolicy(p *pdp.Policy) Option {
	return optionFunc(func(c *config) { c.policy = p })
}

// WithPIPs sets the service's own attribute providers, asked for the
// attributes a policy needs and the request lacks.
func WithPIPs(s *pip.Set) Option {
	return optionFunc(func(c *config) { c.pips = s })
}

// WithDecisionLogger sends a Record of every decision to l, asynchronously:
// records are queued (see WithDecisionLogBuffer) and handed to l by one
// goroutine, so a slow sink never delays a decision; when the queue is
// full, records are dropped and counted rather than blocking.
func WithDecisionLogger(l DecisionLogger) Option {
	return optionFunc(func(c *config) { c.decisionLog = l })
}

// WithDecisionLogBuffer sets the decision-log queue length (default
// DefaultDecisionLogBuffer), trading memory for tolerance of a sink's
// hiccups.
func WithDecisionLogBuffer(n int) Option {
	return optionFunc(func(c *config) { c.logBuffer = n })
}

// WithMetrics registers the PDP's Prometheus collectors with reg (never the
// global registry implicitly). Close unregisters them.
func WithMetrics(reg prometheus.Registerer) Option {
	return optionFunc(func(c *config) { c.registerer = reg })
}

// WithEngineOptions passes options to the embedded engine (pdp.New), for
// engine settings the SDK does not wrap, such as the XACML functions'
// implicit time zone.
func WithEngineOptions(opts ...pdp.Option) Option {
	return optionFunc(func(c *config) { c.engineOpts = append(c.engineOpts, opts...) })
}

type sharedOption struct {
	pdp func(*config)
	pep func(*pepConfig)
}

func (o sharedOption) applyToPDP(c *config)    { o.pdp(c) }
func (o sharedOption) applyToPEP(c *pepConfig) { o.pep(c) }

// WithLogger sets the structured logger (default slog.Default()), for the
// PDP's lifecycle events and for enforcement points' refusals.
func WithLogger(l *slog.Logger) SharedOption {
	return sharedOption{
		pdp: func(c *config) { c.logger = l },
		pep: func(c *pepConfig) { c.logger = l },
	}
}

// WithTokenVerifier sets the JWT validator. Given to New, it is used by
// every enforcement point in front of that PDP; given to an enforcement
// point, it overrides the PDP's (and is the only way to validate tokens in
// front of a Remote).
func WithTokenVerifier(v *token.Verifier) SharedOption {
	return sharedOption{
		pdp: func(c *config) { c.verifier = v },
		pep: func(c *pepConfig) { c.verifier = v },
	}
}
