package audit

import (
	"log/slog"
	"time"

	"github.com/verdict-authz/verdict/pdp/decisionlog"
)

// CollectorOption configures a Collector. Options are values of a type
// with an unexported method so that NewCollector can grow settings without
// breaking callers.
type CollectorOption interface{ applyCollector(*collectorConfig) }

type collectorOptionFunc func(*collectorConfig)

func (f collectorOptionFunc) applyCollector(c *collectorConfig) { f(c) }

// Collector defaults.
const (
	DefaultDurable            = "verdict-audit"
	DefaultCollectorBatch     = 500
	DefaultAckWait            = 30 * time.Second
	DefaultCheckpointInterval = 5 * time.Second
)

type collectorConfig struct {
	logger   *slog.Logger
	stream   string
	prefix   string
	durable  string
	batch    int
	ackWait  time.Duration
	interval time.Duration
	file     *CheckpointFile
	publish  CheckpointPublisher
}

func newCollectorConfig(opts []CollectorOption) collectorConfig {
	c := collectorConfig{
		logger:   slog.New(slog.DiscardHandler),
		stream:   decisionlog.DefaultStream,
		prefix:   decisionlog.DefaultSubjectPrefix,
		durable:  DefaultDurable,
		batch:    DefaultCollectorBatch,
		ackWait:  DefaultAckWait,
		interval: DefaultCheckpointInterval,
	}
	for _, o := range opts {
		o.applyCollector(&c)
	}
	return c
}

// WithCollectorLogger sets where the collector reports ingest failures.
func WithCollectorLogger(l *slog.Logger) CollectorOption {
	return collectorOptionFunc(func(c *collectorConfig) { c.logger = l })
}

// WithStream sets the stream and subject prefix (DefaultStream,
// verdict.decisions), so tests can isolate themselves on a shared server.
func WithStream(name, subjectPrefix string) CollectorOption {
	return collectorOptionFunc(func(c *collectorConfig) { c.stream, c.prefix = name, subjectPrefix })
}

// WithDurable names the durable consumer; collectors sharing it share the
// work and resume where the previous one stopped.
func WithDurable(name string) CollectorOption {
	return collectorOptionFunc(func(c *collectorConfig) { c.durable = name })
}

// WithCollectorBatch sets how many records one store transaction takes.
func WithCollectorBatch(n int) CollectorOption {
	return collectorOptionFunc(func(c *collectorConfig) { c.batch = max(n, 1) })
}

// WithAckWait sets how long JetStream waits for an acknowledgement before
// redelivering: how soon records fetched by a crashed collector come back.
func WithAckWait(d time.Duration) CollectorOption {
	return collectorOptionFunc(func(c *collectorConfig) { c.ackWait = d })
}

// WithCheckpoints signs a checkpoint of every chain that grew, at most
// every interval and when the collector stops, writes it to file (if not
// nil) and publishes it with pub (if not nil).
func WithCheckpoints(interval time.Duration, file *CheckpointFile, pub CheckpointPublisher) CollectorOption {
	return collectorOptionFunc(func(c *collectorConfig) { c.interval, c.file, c.publish = interval, file, pub })
}
