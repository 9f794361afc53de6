package publish

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of a Publisher.
const (
	// DefaultBucket is the Object Store bucket for bundles too large for
	// one message.
	DefaultBucket = "verdict-bundles"
	// DefaultHistory is how many revisions per service the stream keeps:
	// enough for PDPs reconnecting after a short outage to replay what they
	// missed, small enough to bound the stream.
	DefaultHistory = 10
)

// An Option configures New.
type Option interface {
	apply(*config)
}

type config struct {
	prefix      string
	stream      string
	bucket      string
	history     int64
	inlineLimit int
	perService  bool
	logger      *slog.Logger
	registerer  prometheus.Registerer
	now         func() time.Time
	keyFile     string
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithSubjectPrefix sets the subjects' first token(s) (default
// bundlesource.DefaultSubjectPrefix), so tests and tenants can share a
// server; PDPs must use the same prefix.
func WithSubjectPrefix(prefix string) Option {
	return optionFunc(func(c *config) { c.prefix = prefix })
}

// WithStream names the stream (default bundlesource.DefaultStream).
func WithStream(name string) Option {
	return optionFunc(func(c *config) { c.stream = name })
}

// WithBucket names the Object Store bucket for large bundles (default
// DefaultBucket).
func WithBucket(name string) Option {
	return optionFunc(func(c *config) { c.bucket = name })
}

// WithServiceBuckets gives each service its own Object Store bucket,
// "<bucket>-<service>", instead of one shared bucket, so that NATS
// permissions can let a service's PDPs read its large bundles and no
// other's (pki/natsauth). PDPs need no change: the pointer names the
// bucket.
func WithServiceBuckets() Option {
	return optionFunc(func(c *config) { c.perService = true })
}

// WithHistory sets how many messages per subject the stream keeps
// (default DefaultHistory).
func WithHistory(n int) Option {
	return optionFunc(func(c *config) { c.history = int64(n) })
}

// WithInlineLimit sets the largest archive sent in the message itself;
// larger ones go to the Object Store. The default is the server's maximum
// payload less 4 KiB for subject and headers. Tests lower it to exercise
// the Object Store path with small bundles.
func WithInlineLimit(n int) Option {
	return optionFunc(func(c *config) { c.inlineLimit = n })
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithRegisterer registers the publisher's metrics with r.
func WithRegisterer(r prometheus.Registerer) Option {
	return optionFunc(func(c *config) { c.registerer = r })
}

// WithClock sets the clock for key set timestamps and rotation windows
// (default time.Now).
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.now = now })
}

// WithKeyFile names the file the signing key was loaded from: a rotation
// writes the new key there (keeping the old one beside it, named after its
// key id) before signing with it, so that a restarted PAP signs with the
// key PDPs were told about.
func WithKeyFile(path string) Option {
	return optionFunc(func(c *config) { c.keyFile = path })
}
