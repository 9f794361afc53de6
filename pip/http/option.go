package http

import (
	"crypto/tls"
	"log/slog"
	nethttp "net/http"
)

// Option configures New.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// DefaultMaxResponseBytes bounds a response body, so that a misbehaving
// endpoint cannot exhaust the PDP's memory.
const DefaultMaxResponseBytes = 1 << 20

type config struct {
	tls        *tls.Config
	plaintext  bool
	maxBody    int64
	header     nethttp.Header
	attributes []string
	category   string
	logger     *slog.Logger
}

// WithTLSConfig sets the TLS client configuration for an https endpoint:
// RootCAs to trust the endpoint, Certificates (or GetClientCertificate)
// when it requires client certificates. It is required for https, because
// attribute queries carry identities and must not trust whatever the
// system trusts by accident. The configuration is cloned.
func WithTLSConfig(c *tls.Config) Option {
	return optionFunc(func(cfg *config) { cfg.tls = c })
}

// WithInsecureLoopbackPlaintext allows a plain http endpoint, only on the
// loopback interface (a sidecar or a local test service); every connection
// is checked to really go to a loopback address.
func WithInsecureLoopbackPlaintext() Option {
	return optionFunc(func(cfg *config) { cfg.plaintext = true })
}

// WithMaxResponseBytes bounds the response body; n <= 0 means
// DefaultMaxResponseBytes.
func WithMaxResponseBytes(n int64) Option {
	return optionFunc(func(cfg *config) {
		if n > 0 {
			cfg.maxBody = n
		}
	})
}

// WithHeader adds a header to every request, typically the credentials the
// endpoint expects (Authorization).
func WithHeader(name, value string) Option {
	return optionFunc(func(cfg *config) { cfg.header.Add(name, value) })
}

// WithAttributes declares the attribute ids the endpoint can supply, so
// that the engine asks it only for those (see pip.Description); without it
// the endpoint is asked for any attribute of its category.
func WithAttributes(ids ...string) Option {
	return optionFunc(func(cfg *config) { cfg.attributes = append(cfg.attributes, ids...) })
}

// WithCategory sets the category of the attributes supplied when it is not
// the key attribute's.
func WithCategory(category string) Option {
	return optionFunc(func(cfg *config) { cfg.category = category })
}

// WithLogger sets where notable events are logged; by default nothing is
// logged.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(cfg *config) {
		if l != nil {
			cfg.logger = l
		}
	})
}
