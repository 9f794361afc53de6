package tlsconfig

import (
	"crypto/x509"
	"log/slog"
	"time"
)

// RevocationChecker reports whether a peer certificate is revoked; an error
// refuses the handshake with ErrRevoked. revocation.Set (fed by events) and
// revocation.CRL implement it; revocation.Any combines them.
type RevocationChecker interface {
	CheckRevocation(cert *x509.Certificate) error
}

// Option configures ServerConfig, ClientConfig and HTTPClient.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	authorizer Authorizer
	revocation RevocationChecker
	logger     *slog.Logger
	now        func() time.Time
	optional   bool
	metrics    *Metrics
	nextProtos []string
	// pollInterval is Watch's polling period.
	pollInterval time.Duration
}

func newConfig(opts []Option) config {
	c := config{logger: slog.Default(), now: time.Now}
	for _, o := range opts {
		o.apply(&c)
	}
	return c
}

// WithAuthorizer sets which peer identities are accepted. Servers without
// one accept any identity in the bundle's chain; clients without one fall
// back to checking the server name (SNI) against the certificate's DNS SANs,
// and refuse servers dialed by IP address, which send no SNI.
func WithAuthorizer(a Authorizer) Option {
	return optionFunc(func(c *config) { c.authorizer = a })
}

// WithRevocationChecker rejects revoked peers.
func WithRevocationChecker(r RevocationChecker) Option {
	return optionFunc(func(c *config) { c.revocation = r })
}

// WithLogger sets where refused handshakes are logged (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithClock replaces time.Now for certificate validity checks, so tests can
// exercise expiry without waiting.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) {
		if now != nil {
			c.now = now
		}
	})
}

// WithOptionalClientCert lets clients connect without a certificate (a
// certificate, when sent, is still fully verified). The CA uses it so that
// join and OCSP need no certificate while renew and admin calls do.
func WithOptionalClientCert() Option {
	return optionFunc(func(c *config) { c.optional = true })
}

// WithMetrics counts handshakes by peer identity and result.
func WithMetrics(m *Metrics) Option {
	return optionFunc(func(c *config) { c.metrics = m })
}

// WithNextProtos sets the ALPN protocols a server offers (default h2 and
// http/1.1, which also suits gRPC).
func WithNextProtos(p ...string) Option {
	return optionFunc(func(c *config) { c.nextProtos = p })
}

// WithPollInterval sets how often Watch checks the certificate files
// (default 5s).
func WithPollInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.pollInterval = d })
}
