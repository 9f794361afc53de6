package pip

import (
	"log/slog"
	"time"
)

// Option configures the wrappers (Wrap, NewCache, NewBreaker, NewTimeout).
// All wrappers accept the same options and use those that concern them, so
// one option list can configure a whole stack.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults, chosen so that a PIP can neither hang a decision nor hammer a
// failing backend.
const (
	// DefaultTimeout bounds one fetch in Wrap and NewTimeout.
	DefaultTimeout = time.Second
	// DefaultFailureThreshold is how many consecutive failures open the
	// circuit.
	DefaultFailureThreshold = 5
	// DefaultCooldown is how long an open circuit refuses calls before
	// letting one probe through.
	DefaultCooldown = 10 * time.Second
	// DefaultCacheTTL is how long NewCache keeps a value.
	DefaultCacheTTL = time.Minute
	// DefaultCacheEntries bounds the cache size (one entry per category,
	// key and attribute).
	DefaultCacheEntries = 10000
)

type config struct {
	name      string
	clock     Clock
	logger    *slog.Logger
	metrics   *Metrics
	timeout   time.Duration
	threshold int
	cooldown  time.Duration
	cacheTTL  time.Duration
	cacheSize int
	// cacheSet records whether WithCache was given, because Wrap adds a
	// cache only when asked: staleness is a policy choice.
	cacheSet bool
}

func newConfig(opts []Option) config {
	c := config{
		name:      "pip",
		clock:     systemClock{},
		logger:    slog.New(slog.DiscardHandler),
		timeout:   DefaultTimeout,
		threshold: DefaultFailureThreshold,
		cooldown:  DefaultCooldown,
		cacheTTL:  DefaultCacheTTL,
		cacheSize: DefaultCacheEntries,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithName names the provider in metrics labels, log lines and errors, so
// that an operator can tell which PIP failed.
func WithName(name string) Option {
	return optionFunc(func(c *config) {
		if name != "" {
			c.name = name
		}
	})
}

// WithClock replaces the system clock used for cache expiry and breaker
// cool-down; tests use it to move time without sleeping.
func WithClock(clock Clock) Option {
	return optionFunc(func(c *config) {
		if clock != nil {
			c.clock = clock
		}
	})
}

// WithLogger sets where circuit transitions and other notable events are
// logged; by default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithMetrics reports fetches, errors, cache hits and circuit state to m
// (see NewMetrics); nil disables metrics.
func WithMetrics(m *Metrics) Option {
	return optionFunc(func(c *config) { c.metrics = m })
}

// WithTimeout bounds each fetch, so that a slow backend cannot hold a
// decision; d <= 0 removes the bound (the caller's context still applies).
// Default DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithBreaker opens the circuit after threshold consecutive failures and
// keeps it open for cooldown before letting one probe through, so that a
// failing backend is not called on every decision; threshold <= 0 disables
// the breaker in Wrap. Defaults DefaultFailureThreshold and
// DefaultCooldown.
func WithBreaker(threshold int, cooldown time.Duration) Option {
	return optionFunc(func(c *config) {
		c.threshold = threshold
		if cooldown > 0 {
			c.cooldown = cooldown
		}
	})
}

// WithCache keeps fetched values (empty answers included, errors never)
// for ttl, in at most maxEntries entries, least recently used evicted
// first. Wrap adds a cache only when this option is given; ttl <= 0 then
// disables it. maxEntries <= 0 means DefaultCacheEntries.
func WithCache(ttl time.Duration, maxEntries int) Option {
	return optionFunc(func(c *config) {
		c.cacheSet = true
		c.cacheTTL = ttl
		if maxEntries > 0 {
			c.cacheSize = maxEntries
		}
	})
}
