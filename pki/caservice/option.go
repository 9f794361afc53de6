package caservice

import "log/slog"

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	logger  *slog.Logger
	crlURL  string
	ocspURL string
}

func newConfig(opts []Option) config {
	c := config{logger: slog.Default()}
	for _, o := range opts {
		o.apply(&c)
	}
	return c
}

// WithLogger sets where failed calls are logged (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithEndpoints sets the CRL and OCSP URLs that Info advertises, so that
// clients learn where to check revocation; the CA itself does not know on
// which address it is served.
func WithEndpoints(crlURL, ocspURL string) Option {
	return optionFunc(func(c *config) { c.crlURL, c.ocspURL = crlURL, ocspURL })
}
