package revocation

import (
	"log/slog"
	"time"
)

// NATSOption configures NewPublisher and Subscribe.
type NATSOption interface{ applyNATS(*natsConfig) }

type natsOptionFunc func(*natsConfig)

func (f natsOptionFunc) applyNATS(c *natsConfig) { f(c) }

type natsConfig struct {
	subject      string
	logger       *slog.Logger
	flushTimeout time.Duration
}

func newNATSConfig(opts []NATSOption) natsConfig {
	c := natsConfig{subject: Subject, logger: slog.Default(), flushTimeout: 2 * time.Second}
	for _, o := range opts {
		o.applyNATS(&c)
	}
	return c
}

// WithSubject replaces the subject (default Subject), so that tests on a
// shared server and separate deployments do not hear each other.
func WithSubject(s string) NATSOption {
	return natsOptionFunc(func(c *natsConfig) {
		if s != "" {
			c.subject = s
		}
	})
}

// WithNATSLogger sets where publish failures and malformed events are
// logged (default slog.Default()).
func WithNATSLogger(l *slog.Logger) NATSOption {
	return natsOptionFunc(func(c *natsConfig) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithFlushTimeout bounds how long NotifyRevocation waits for the server to
// acknowledge an event (default 2s): the CA must not hang on a slow NATS.
func WithFlushTimeout(d time.Duration) NATSOption {
	return natsOptionFunc(func(c *natsConfig) {
		if d > 0 {
			c.flushTimeout = d
		}
	})
}
