package decisionlog

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Option configures a Logger. Options are values of a type with an
// unexported method so that New can grow settings without breaking
// callers.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults, sized so that a burst of decisions is absorbed in memory and
// a NATS outage of minutes fits on disk.
const (
	DefaultBuffer        = 8192
	DefaultBatchSize     = 256
	DefaultFlushInterval = 100 * time.Millisecond
	DefaultPublishTimout = 5 * time.Second
	DefaultSegmentBytes  = 8 << 20
	DefaultSpoolMaxBytes = 1 << 30
)

type config struct {
	logger        *slog.Logger
	registerer    prometheus.Registerer
	buffer        int
	batchSize     int
	flush         time.Duration
	timeout       time.Duration
	spoolDir      string
	spoolMax      int64
	segBytes      int64
	prefix        string
	instance      string
	maskers       map[string]*Masker
	defaultMasker *Masker
}

func newConfig(opts []Option) config {
	c := config{
		logger:    slog.New(slog.DiscardHandler),
		buffer:    DefaultBuffer,
		batchSize: DefaultBatchSize,
		flush:     DefaultFlushInterval,
		timeout:   DefaultPublishTimout,
		spoolMax:  DefaultSpoolMaxBytes,
		segBytes:  DefaultSegmentBytes,
		prefix:    DefaultSubjectPrefix,
		maskers:   map[string]*Masker{},
	}
	for _, o := range opts {
		o.apply(&c)
	}
	return c
}

// WithLogger sets where the Logger reports outages and drops.
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.logger = l }) }

// WithRegisterer registers the queued/sent/spooled/dropped counters, so
// that operators can alert on spooling before records are lost.
func WithRegisterer(r prometheus.Registerer) Option {
	return optionFunc(func(c *config) { c.registerer = r })
}

// WithBuffer sets the in-memory queue length; past it records spill to
// the spool.
func WithBuffer(n int) Option { return optionFunc(func(c *config) { c.buffer = max(n, 0) }) }

// WithBatch sets how many records go in one publish and how long a partial
// batch may wait, trading latency of the log for throughput.
func WithBatch(size int, flush time.Duration) Option {
	return optionFunc(func(c *config) { c.batchSize, c.flush = max(size, 1), flush })
}

// WithPublishTimeout bounds one batch's wait for acknowledgements; past it
// NATS is considered unreachable and records go to the spool.
func WithPublishTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithSpool enables the disk spool in dir, holding at most maxBytes
// (the operator's cap; past it records are dropped and counted). Without
// a spool, records that do not fit the queue or cannot be published are
// dropped, so production deployments should always set one.
func WithSpool(dir string, maxBytes int64) Option {
	return optionFunc(func(c *config) { c.spoolDir, c.spoolMax = dir, maxBytes })
}

// WithSegmentBytes sets the size at which spool segments roll over.
func WithSegmentBytes(n int64) Option { return optionFunc(func(c *config) { c.segBytes = n }) }

// WithSubjectPrefix replaces verdict.decisions, for test isolation on a
// shared NATS server.
func WithSubjectPrefix(p string) Option { return optionFunc(func(c *config) { c.prefix = p }) }

// WithInstance sets the instance id written into records that carry none,
// to trace decisions to a PDP process.
func WithInstance(id string) Option { return optionFunc(func(c *config) { c.instance = id }) }

// WithMasker masks the records of service with m; an empty service sets
// the masker of services that have none of their own.
func WithMasker(service string, m *Masker) Option {
	return optionFunc(func(c *config) {
		if service == "" {
			c.defaultMasker = m
		} else {
			c.maskers[service] = m
		}
	})
}
