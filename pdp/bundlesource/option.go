package bundlesource

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

// An Option configures New. WithService and WithTrustStore are required.
type Option interface {
	apply(*config)
}

type config struct {
	service    string
	trust      *bundle.TrustStore
	cacheDir   string
	instance   string
	interval   time.Duration
	subjects   Subjects
	stream     string
	logger     *slog.Logger
	registerer prometheus.Registerer
	maxSize    int64
	retryMax   time.Duration
	observer   Observer
	group      *Group
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithService names the service whose bundles the Source follows; bundles
// for any other service are refused even when correctly signed.
func WithService(name string) Option {
	return optionFunc(func(c *config) { c.service = name })
}

// WithTrustStore sets the keys bundles must be signed with. Key sets
// published on the keys subject extend it when they chain to a key it
// already trusts, which is how PDPs follow a key rotation.
func WithTrustStore(t *bundle.TrustStore) Option {
	return optionFunc(func(c *config) { c.trust = t })
}

// WithCacheDir keeps the last-known-good bundle and key set in dir, so a
// PDP that restarts while NATS is unreachable still starts deciding. The
// directory must exist. Without it nothing is persisted.
func WithCacheDir(dir string) Option {
	return optionFunc(func(c *config) { c.cacheDir = dir })
}

// WithInstance sets the instance id reported in heartbeats (one subject
// token of [A-Za-z0-9_-]); the default is derived from the host name and a
// random suffix, unique per process.
func WithInstance(id string) Option {
	return optionFunc(func(c *config) { c.instance = id })
}

// WithHeartbeatInterval sets how often the Source reports its state
// (default DefaultHeartbeatInterval). The PAP reads the interval from the
// heartbeat, so PDPs with different intervals coexist.
func WithHeartbeatInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.interval = d })
}

// WithSubjectPrefix sets the first token(s) of the subjects (default
// DefaultSubjectPrefix), so tests and tenants can share a NATS server.
func WithSubjectPrefix(prefix string) Option {
	return optionFunc(func(c *config) { c.subjects = Subjects{Prefix: prefix} })
}

// WithStream names the JetStream stream holding the bundles (default
// DefaultStream); it must match the publisher's.
func WithStream(name string) Option {
	return optionFunc(func(c *config) { c.stream = name })
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithRegisterer registers the Source's metrics (active revision, bundles
// applied and refused, activation time) with r. Metrics carry the service
// and instance as constant labels, so several Sources share a registry.
func WithRegisterer(r prometheus.Registerer) Option {
	return optionFunc(func(c *config) { c.registerer = r })
}

// WithMaxBundleSize bounds the bundles the Source accepts, compressed and
// uncompressed (default bundle.DefaultMaxSize), protecting the PDP's
// memory from a hostile publisher.
func WithMaxBundleSize(n int64) Option {
	return optionFunc(func(c *config) { c.maxSize = n })
}

// WithRetryBackoff caps the wait between attempts to (re)subscribe or to
// fetch a pointed-to bundle while NATS is unavailable (default 2s).
func WithRetryBackoff(max time.Duration) Option {
	return optionFunc(func(c *config) { c.retryMax = max })
}

// An Observer is told about every bundle a Source activates, in
// activation order, from the Source's single applying goroutine: audit
// trails record what a PDP ran, and tests check that revisions only move
// forward. It must return quickly.
type Observer interface {
	Activated(m bundle.Manifest)
}

// A VerifyObserver is an Observer that also wants to know when a bundle
// has been received and verified, before it is compiled: benchmarks tell
// delivery time from compile time with it.
type VerifyObserver interface {
	Observer
	Verified(m bundle.Manifest)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(m bundle.Manifest)

// Activated implements Observer.
func (f ObserverFunc) Activated(m bundle.Manifest) { f(m) }

// WithObserver reports every activation (the last-known-good bundle
// included) to o.
func WithObserver(o Observer) Option {
	return optionFunc(func(c *config) { c.observer = o })
}
