package bundle

import "time"

// DefaultMaxSize is the default limit, in bytes, on a bundle's archive both
// compressed and uncompressed. It is far above any realistic policy set and
// far below what would hurt a PDP's memory.
const DefaultMaxSize int64 = 64 << 20

// An Option configures how a bundle is built (New), read (Read, Open,
// ReadFile) or verified (Verify). Options that do not concern a step are
// documented as such on the option.
type Option interface {
	applyToConfig(*config)
}

// config holds the options of one call.
type config struct {
	maxSize        int64
	service        string
	activeRevision uint64
}

// newConfig applies opts over the defaults.
func newConfig(opts []Option) config {
	c := config{maxSize: DefaultMaxSize}
	for _, o := range opts {
		if o != nil {
			o.applyToConfig(&c)
		}
	}
	return c
}

type maxSizeOption int64

func (o maxSizeOption) applyToConfig(c *config) { c.maxSize = int64(o) }

// WithMaxSize sets the limit, in bytes, on the archive, both as read
// (compressed) and once decompressed (the tar stream), and on the sum of
// file sizes. New refuses contents whose signed archive would exceed it, so
// that a producer never publishes what PDPs would refuse. Values ≤ 0 keep
// DefaultMaxSize.
func WithMaxSize(n int64) Option {
	if n <= 0 {
		n = DefaultMaxSize
	}
	return maxSizeOption(n)
}

type serviceOption string

func (o serviceOption) applyToConfig(c *config) { c.service = string(o) }

// WithService makes verification refuse (ErrService) a bundle built for any
// other service, so that a PDP never activates a neighbour's policies even
// when both are signed by the same key. Read and New ignore it.
func WithService(name string) Option { return serviceOption(name) }

type activeRevisionOption uint64

func (o activeRevisionOption) applyToConfig(c *config) { c.activeRevision = uint64(o) }

// WithActiveRevision makes verification refuse (ErrStale) a bundle whose
// revision is not strictly newer than rev, the revision the PDP already
// runs: a replayed or duplicated old bundle must never roll it back.
// Rollbacks are published as new revisions, so they still pass. Read and
// New ignore it.
func WithActiveRevision(rev uint64) Option { return activeRevisionOption(rev) }

// A TrustOption configures a TrustStore.
type TrustOption interface {
	applyToTrust(*trustConfig)
}

// trustConfig holds the options of NewTrustStore.
type trustConfig struct {
	now func() time.Time
}

type clockOption func() time.Time

func (o clockOption) applyToTrust(c *trustConfig) { c.now = o }

// WithClock sets the clock a TrustStore uses to decide whether a key is
// inside its not-before/not-after window. Tests use it to step through a
// rotation; production keeps the default, time.Now.
func WithClock(now func() time.Time) TrustOption {
	if now == nil {
		now = time.Now
	}
	return clockOption(now)
}
