package token

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// KeySet defaults.
const (
	// DefaultRefreshInterval is how often a KeySet refetches in the background.
	DefaultRefreshInterval = 15 * time.Minute
	// DefaultMinRefreshInterval is the least time between two fetches caused
	// by unknown kids.
	DefaultMinRefreshInterval = 30 * time.Second
)

type keySetConfig struct {
	interval    time.Duration
	minInterval time.Duration
	symmetric   bool
	now         func() time.Time
	log         *slog.Logger
}

// KeySet is a KeySource that keeps a fetched JWKS current. It refetches
// periodically in the background, and on demand when a token names a kid
// the current set lacks — at most once per minimum interval, however many
// such tokens arrive, and with concurrent requests coalesced into one fetch.
// A failed fetch or an invalid document keeps the previous set.
type KeySet struct {
	fetch       Fetcher
	cfg         keySetConfig
	cur         atomic.Pointer[JWKS]
	attempts    atomic.Uint64 // completed fetch attempts
	sem         chan struct{} // one fetch at a time; guards lastAttempt
	lastAttempt time.Time
	stop        context.CancelFunc
	done        chan struct{}
	closeOnce   sync.Once
	closed      atomic.Bool
}

// NewKeySet fetches the key set once (ctx bounds that first fetch, and the
// call fails if it fails: a verifier without keys is useless) and starts the
// background refresh, which runs until Close. Symmetric keys are refused
// unless WithSymmetricKeys is given.
func NewKeySet(ctx context.Context, f Fetcher, opts ...KeySetOption) (*KeySet, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: nil fetcher", ErrConfig)
	}
	cfg := keySetConfig{
		interval:    DefaultRefreshInterval,
		minInterval: DefaultMinRefreshInterval,
		now:         time.Now,
		log:         slog.Default(),
	}
	for _, o := range opts {
		o.applyKeySet(&cfg)
	}
	switch {
	case cfg.interval <= 0 || cfg.minInterval < 0:
		return nil, fmt.Errorf("%w: refresh intervals must be positive", ErrConfig)
	case cfg.now == nil || cfg.log == nil:
		return nil, fmt.Errorf("%w: nil clock or logger", ErrConfig)
	}
	k := &KeySet{fetch: f, cfg: cfg, sem: make(chan struct{}, 1), done: make(chan struct{})}
	if _, err := k.fetchLocked(ctx); err != nil {
		return nil, err
	}
	// The loop keeps ctx's values (for logging) but not its cancellation:
	// the set lives until Close, not until the constructor's deadline.
	loopCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	k.stop = stop
	go k.loop(loopCtx)
	return k, nil
}

// Current returns the newest successfully fetched set.
func (k *KeySet) Current(context.Context) (*JWKS, error) { return k.cur.Load(), nil }

// Refresh fetches now unless the previous fetch attempt is more recent than
// the minimum interval (ErrRateLimited) or another caller's fetch completed
// while this one waited (its result is returned). It always returns the
// newest set it has.
func (k *KeySet) Refresh(ctx context.Context) (*JWKS, error) {
	if k.closed.Load() {
		return k.cur.Load(), ErrClosed
	}
	seen := k.attempts.Load()
	select {
	case k.sem <- struct{}{}:
	case <-ctx.Done():
		return k.cur.Load(), ctx.Err()
	}
	defer func() { <-k.sem }()
	if k.attempts.Load() != seen {
		return k.cur.Load(), nil
	}
	if since := k.cfg.now().Sub(k.lastAttempt); since < k.cfg.minInterval {
		return k.cur.Load(), fmt.Errorf("%w: last fetch %s ago, minimum interval %s", ErrRateLimited, since.Round(time.Millisecond), k.cfg.minInterval)
	}
	return k.fetchLocked(ctx)
}

// fetchLocked fetches and installs a new set; the caller holds sem (or is
// the constructor, before anyone else can see k).
func (k *KeySet) fetchLocked(ctx context.Context) (*JWKS, error) {
	k.lastAttempt = k.cfg.now()
	defer k.attempts.Add(1)
	set, err := k.load(ctx)
	if err != nil {
		k.cfg.log.WarnContext(ctx, "jwks fetch failed; keeping the previous key set", "error", err)
		return k.cur.Load(), err
	}
	k.cur.Store(set)
	k.cfg.log.DebugContext(ctx, "jwks fetched", "keys", len(set.keys))
	return set, nil
}

func (k *KeySet) load(ctx context.Context) (*JWKS, error) {
	data, err := k.fetch.Fetch(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	set, err := ParseJWKS(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	if set.symmetric && !k.cfg.symmetric {
		return nil, fmt.Errorf("%w: %w: symmetric (oct) keys are refused without WithSymmetricKeys", ErrFetch, ErrInvalidKeySet)
	}
	return set, nil
}

// loop refetches every interval; after a failure it retries sooner (the
// minimum interval, at least one second) so that a transient outage does
// not leave the set stale for a whole interval.
func (k *KeySet) loop(ctx context.Context) {
	defer close(k.done)
	timer := time.NewTimer(k.cfg.interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		next := k.cfg.interval
		select {
		case k.sem <- struct{}{}:
			if _, err := k.fetchLocked(ctx); err != nil && ctx.Err() == nil {
				next = min(k.cfg.interval, max(k.cfg.minInterval, time.Second))
			}
			<-k.sem
		case <-ctx.Done():
			return
		}
		timer.Reset(next)
	}
}

// Close stops the background refresh and waits for it. The last set stays
// available through Current. Close is idempotent and always returns nil.
func (k *KeySet) Close() error {
	k.closeOnce.Do(func() {
		k.closed.Store(true)
		k.stop()
		<-k.done
	})
	return nil
}
