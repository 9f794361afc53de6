package server

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pki/revocation"
)

// Defaults of a Server.
const (
	// DefaultPublishTimeout bounds how long a push retries publishing its
	// stored revision before answering UNAVAILABLE (the background
	// reconciler keeps trying).
	DefaultPublishTimeout = 10 * time.Second
	// DefaultReconcileInterval is how often the server checks that every
	// service's subject holds its latest stored revision.
	DefaultReconcileInterval = 5 * time.Second
	// DefaultMaxMessageBytes bounds a request (a push with all its files).
	DefaultMaxMessageBytes = 32 << 20
	// DefaultShutdownTimeout bounds a graceful shutdown.
	DefaultShutdownTimeout = 10 * time.Second
)

// An Option configures New. WithTLS or WithInsecurePlaintext is required.
type Option interface {
	apply(*config)
}

type config struct {
	tls               *tls.Config
	plaintext         bool
	fleet             *Fleet
	logger            *slog.Logger
	registerer        prometheus.Registerer
	publishTimeout    time.Duration
	reconcileInterval time.Duration
	maxBytes          int
	shutdownTimeout   time.Duration
	revocation        *revocation.Set
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTLS serves over TLS with cfg. When cfg has ClientCAs, clients must
// present a certificate from them, and its identity becomes the author of
// their pushes.
func WithTLS(cfg *tls.Config) Option {
	return optionFunc(func(c *config) { c.tls = cfg })
}

// WithInsecurePlaintext is the explicit opt-out of TLS, for a PAP on a
// loopback address only (Serve refuses any other). Authors are then
// "anonymous".
func WithInsecurePlaintext() Option {
	return optionFunc(func(c *config) { c.plaintext = true })
}

// WithFleet gives the server the PDPs' heartbeats, for RolloutStatus and
// WatchRollout. Without it no PDP is ever live.
func WithFleet(f *Fleet) Option {
	return optionFunc(func(c *config) { c.fleet = f })
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithRegisterer registers the server's metrics with r.
func WithRegisterer(r prometheus.Registerer) Option {
	return optionFunc(func(c *config) { c.registerer = r })
}

// WithPublishTimeout sets how long a push retries publishing (default
// DefaultPublishTimeout).
func WithPublishTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.publishTimeout = d })
}

// WithReconcileInterval sets how often Serve republishes revisions the
// subjects lack (default DefaultReconcileInterval).
func WithReconcileInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.reconcileInterval = d })
}

// WithMaxMessageBytes bounds a request's size (default
// DefaultMaxMessageBytes).
func WithMaxMessageBytes(n int) Option {
	return optionFunc(func(c *config) { c.maxBytes = n })
}

// WithShutdownTimeout bounds a graceful shutdown (default
// DefaultShutdownTimeout).
func WithShutdownTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.shutdownTimeout = d })
}

// WithRevocation cuts revoked authors and PDPs off: handshakes presenting a
// certificate in set are refused (on resumed sessions too), and live
// Connect and gRPC connections (WatchRollout streams included) whose client
// certificate gets added to set are closed. Feed set from the CA's
// revocation events (revocation.Subscribe). It requires WithTLS.
func WithRevocation(set *revocation.Set) Option {
	return optionFunc(func(c *config) { c.revocation = set })
}
