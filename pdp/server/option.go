package server

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pip"
	"github.com/verdict-authz/verdict/pki/revocation"
)

// Option configures a Server.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults, chosen so that one caller cannot exhaust the PDP's memory or
// hold its workers.
const (
	// DefaultMaxRequestBytes bounds an HTTP body and a gRPC message.
	DefaultMaxRequestBytes = 1 << 20
	// DefaultMaxBatch bounds the items of one batch.
	DefaultMaxBatch = 1000
	// DefaultRequestTimeout is the deadline of a request that carries none.
	DefaultRequestTimeout = 5 * time.Second
	// DefaultMaxInFlight bounds the requests decided at once; more wait
	// for a slot until their deadline.
	DefaultMaxInFlight = 256
	// DefaultSearchPageSize and DefaultMaxSearchPageSize bound a search page.
	DefaultSearchPageSize    = 100
	DefaultMaxSearchPageSize = 1000
	// DefaultSearchBudget bounds the candidates one search request
	// evaluates; past it the page ends early with a next_token.
	DefaultSearchBudget = 10000
	// DefaultShutdownTimeout bounds a graceful shutdown before in-flight
	// requests are cut.
	DefaultShutdownTimeout = 10 * time.Second
)

type config struct {
	logger          *slog.Logger
	registry        *prometheus.Registry
	pips            *pip.Set
	actions         []string
	sourceTypes     map[string]string
	knownTypes      map[string][]string
	policyIDs       map[string][]string
	validator       TokenValidator
	tls             *tls.Config
	plaintext       bool
	maxBytes        int64
	maxBatch        int
	timeout         time.Duration
	maxInFlight     int
	pageSize        int
	maxPageSize     int
	searchBudget    int
	baseURL         string
	rejectUnknown   bool
	now             func() time.Time
	shutdownTimeout time.Duration
	decisionLog     DecisionLogger
	logService      string
	revocation      *revocation.Set
	overload        overloadConfig
}

func newConfig(opts []Option) config {
	c := config{
		logger:          slog.New(slog.DiscardHandler),
		sourceTypes:     map[string]string{},
		knownTypes:      map[string][]string{},
		policyIDs:       map[string][]string{},
		maxBytes:        DefaultMaxRequestBytes,
		maxBatch:        DefaultMaxBatch,
		timeout:         DefaultRequestTimeout,
		maxInFlight:     DefaultMaxInFlight,
		pageSize:        DefaultSearchPageSize,
		maxPageSize:     DefaultMaxSearchPageSize,
		searchBudget:    DefaultSearchBudget,
		now:             time.Now,
		shutdownTimeout: DefaultShutdownTimeout,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithLogger sets where request failures and lifecycle events are logged;
// by default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithRegistry registers the server's metrics on r and serves r on
// /metrics, so that the process decides what else it exports. Without it
// the server uses a registry of its own.
func WithRegistry(r *prometheus.Registry) Option {
	return optionFunc(func(c *config) { c.registry = r })
}

// WithPIPs gives the search APIs their candidates: the entities listed by
// the sources of s whose providers implement pip.Lister. Pass the set the
// engine was built with (pdp.WithPIPs), so that search sees the entities
// the engine fetches attributes of.
func WithPIPs(s *pip.Set) Option {
	return optionFunc(func(c *config) { c.pips = s })
}

// WithActionNames sets the candidates of the Action Search API: the action
// names the policy knows (cmd/verdict extracts them from the policy's
// literals compared with the action "name" attribute).
func WithActionNames(names []string) Option {
	return optionFunc(func(c *config) { c.actions = append(c.actions, names...) })
}

// WithEntityType says that the entities listed by the PIP source named
// source are of AuthZEN type typ, for entities that have no "type"
// attribute of their own, so that a subject search for "user" does not
// return documents.
func WithEntityType(source, typ string) Option {
	return optionFunc(func(c *config) { c.sourceTypes[source] = typ })
}

// WithKnownTypes declares entity types the policy recognises for category
// (a full category URN), so that a search for a type nobody knows returns
// nothing instead of every untyped entity.
func WithKnownTypes(category string, types ...string) Option {
	return optionFunc(func(c *config) { c.knownTypes[category] = append(c.knownTypes[category], types...) })
}

// WithPolicyEntityIDs declares entity ids the policy names for category (a
// full category URN), such as subjects it grants by id. When no PIP lists
// entities of that category, they are the search candidates, and an id
// outside them is unknown to searches; with a lister they are not used.
func WithPolicyEntityIDs(category string, ids ...string) Option {
	return optionFunc(func(c *config) { c.policyIDs[category] = append(c.policyIDs[category], ids...) })
}

// WithTokenValidator lets ext_authz and the DecisionService bearer_token
// turn a caller's JWT into access-subject attributes. Without it a bearer
// token in a DecisionService request is refused, and ext_authz ignores the
// Authorization header.
func WithTokenValidator(v TokenValidator) Option {
	return optionFunc(func(c *config) { c.validator = v })
}

// WithTLS serves HTTP and gRPC over TLS with cfg (cloned). When cfg names
// client CAs (ClientCAs), clients must present a certificate that chains to
// them, whatever cfg.ClientAuth says.
func WithTLS(cfg *tls.Config) Option {
	return optionFunc(func(c *config) { c.tls = cfg })
}

// WithInsecurePlaintext serves without TLS. It is the explicit opt-out for
// local runs and benchmarks: Serve then refuses any listener that is not on
// a loopback address.
func WithInsecurePlaintext() Option {
	return optionFunc(func(c *config) { c.plaintext = true })
}

// WithMaxRequestBytes bounds an HTTP request body (413 past it) and a gRPC
// message. Default DefaultMaxRequestBytes.
func WithMaxRequestBytes(n int64) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxBytes = n
		}
	})
}

// WithMaxBatch bounds the items of one AuthZEN evaluations request or
// EvaluateBatch call (400 / INVALID_ARGUMENT past it). Default
// DefaultMaxBatch.
func WithMaxBatch(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxBatch = n
		}
	})
}

// WithRequestTimeout sets the deadline of requests that carry none (a gRPC
// deadline from the caller is kept). Default DefaultRequestTimeout.
func WithRequestTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// WithMaxInFlight bounds the requests being decided at once, which bounds
// memory under overload; a request that finds no slot before its deadline
// is answered 503 / RESOURCE_EXHAUSTED. Default DefaultMaxInFlight.
func WithMaxInFlight(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxInFlight = n
		}
	})
}

// WithSearchPageSize sets the page size of a search that asks for none,
// and the largest page.limit honoured. Defaults DefaultSearchPageSize and
// DefaultMaxSearchPageSize.
func WithSearchPageSize(def, max int) Option {
	return optionFunc(func(c *config) {
		if def > 0 {
			c.pageSize = def
		}
		if max > 0 {
			c.maxPageSize = max
		}
		if c.pageSize > c.maxPageSize {
			c.pageSize = c.maxPageSize
		}
	})
}

// WithSearchBudget bounds the candidates one search request evaluates, so
// that a search over a large directory cannot hold a worker for long; the
// page then ends early with a next_token. Default DefaultSearchBudget.
func WithSearchBudget(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.searchBudget = n
		}
	})
}

// WithBaseURL sets the public base URL advertised by
// /.well-known/authzen-configuration (for a PDP behind a proxy). By default
// it is derived from each metadata request (scheme and Host).
func WithBaseURL(u string) Option {
	return optionFunc(func(c *config) { c.baseURL = u })
}

// WithRejectUnknownFields answers 400 to AuthZEN requests with top-level
// members the API does not define. AuthZEN 1.0 requires PDPs to ignore
// them (forward compatibility), so it is off by default.
func WithRejectUnknownFields() Option {
	return optionFunc(func(c *config) { c.rejectUnknown = true })
}

// WithClock replaces the clock that gives ext_authz requests their
// environment "time", so that tests can fix it.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now != nil {
			c.now = now
		}
	})
}

// WithShutdownTimeout bounds how long Serve waits for in-flight requests
// after its context ends before cutting them. Default
// DefaultShutdownTimeout.
func WithShutdownTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.shutdownTimeout = d
		}
	})
}

// DecisionLogger receives a record of every decision the server makes
// (decisionlog.Logger satisfies it). Log must not block: it runs on the
// request's path.
type DecisionLogger interface {
	Log(ctx context.Context, r decisionlog.Record)
}

// WithDecisionLog records every decision in l, for auditors, under
// service (the active policy's service when empty). Requests refused
// before a decision (bad requests, no policy) are not decisions and are
// not logged.
func WithDecisionLog(l DecisionLogger, service string) Option {
	return optionFunc(func(c *config) { c.decisionLog, c.logService = l, service })
}

// WithRevocation cuts revoked clients off: handshakes presenting a
// certificate in set are refused (on resumed sessions too), and live HTTP
// and gRPC connections whose client certificate gets added to set are
// closed. Feed set from the CA's revocation events
// (revocation.Subscribe); a CRL can be checked in addition through the
// TLS configuration (tlsconfig.WithRevocationChecker). It requires WithTLS.
func WithRevocation(set *revocation.Set) Option {
	return optionFunc(func(c *config) { c.revocation = set })
}
