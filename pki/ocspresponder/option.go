package ocspresponder

import (
	"log/slog"
	"time"
)

// Option configures a Responder.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	validity time.Duration
	now      func() time.Time
	logger   *slog.Logger
	maxBody  int64
	prefix   string
}

func defaultConfig() config {
	return config{
		validity: 10 * time.Minute,
		now:      time.Now,
		logger:   slog.Default(),
		maxBody:  64 << 10,
		prefix:   "/ocsp",
	}
}

// WithValidity sets how long a response stays fresh (NextUpdate-ThisUpdate).
// Short values bound how long a stapled "good" survives a revocation; the
// default is 10 minutes.
func WithValidity(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.validity = d
		}
	})
}

// WithClock replaces time.Now, for tests that need deterministic
// ThisUpdate/NextUpdate values.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now != nil {
			c.now = now
		}
	})
}

// WithLogger sets where request failures are logged.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithPathPrefix sets the path the handler is mounted at (default "/ocsp");
// GET requests carry the base64 request after "<prefix>/".
func WithPathPrefix(p string) Option {
	return optionFunc(func(c *config) { c.prefix = p })
}
