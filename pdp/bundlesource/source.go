package bundlesource

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
)

// ErrClosed is returned by WaitForRevision once the Source is closed.
var ErrClosed = errors.New("bundlesource: closed")

// Source keeps an engine on the latest bundle of one service. Create it
// with New, which returns once a bundle is active; Close it when the PDP
// stops.
type Source struct {
	cfg     config
	nc      *nats.Conn
	js      jetstream.JetStream
	engine  *pdp.Engine
	metrics *metrics
	log     *slog.Logger

	ctx       context.Context // the Source's lifetime, ended by Close
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	hbMu sync.Mutex // orders heartbeats

	mu      sync.Mutex
	state   state
	changed chan struct{} // closed and replaced on every state change
	ready   chan struct{} // closed at the first activation
	closed  bool

	qmu    sync.Mutex
	queue  []event
	notify chan struct{}

	// Owned by the applier goroutine.
	pendingKey []byte    // a bundle refused for an unknown key, retried after a key set
	retry      *event    // a pointer whose object could not be fetched yet
	retryAt    time.Time // when to fetch it again
	retryWait  time.Duration
	buckets    map[string]jetstream.ObjectStore
}

// state is what heartbeats report.
type state struct {
	revision  uint64
	digest    string
	lastError error
}

// event is one message taken from a subject, in stream order.
type event struct {
	kind string
	data []byte
}

// New starts following the service's bundles and blocks until a bundle is
// active in engine: the last-known-good one from the cache directory
// (loaded first, so a PDP starts even when NATS is unreachable) or the
// latest from NATS. It fails if ctx ends first. nc should be configured to
// reconnect forever (nats.MaxReconnects(-1)); the Source resubscribes by
// itself after reconnects and server restarts. ctx bounds only the wait:
// the Source runs until Close.
func New(ctx context.Context, nc *nats.Conn, engine *pdp.Engine, opts ...Option) (*Source, error) {
	cfg := config{interval: DefaultHeartbeatInterval, stream: DefaultStream, retryMax: 2 * time.Second}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	switch {
	case nc == nil:
		return nil, errors.New("bundlesource: nil NATS connection")
	case engine == nil:
		return nil, errors.New("bundlesource: nil engine")
	case cfg.trust == nil:
		return nil, errors.New("bundlesource: WithTrustStore is required: a PDP must know which keys sign its bundles")
	case cfg.interval <= 0:
		return nil, fmt.Errorf("bundlesource: heartbeat interval %s must be positive", cfg.interval)
	case cfg.retryMax <= 0:
		return nil, fmt.Errorf("bundlesource: retry backoff %s must be positive", cfg.retryMax)
	}
	if err := bundle.ValidateServiceName(cfg.service); err != nil {
		return nil, fmt.Errorf("bundlesource: WithService: %w", err)
	}
	if err := ValidatePrefix(cfg.subjects.Prefix); err != nil {
		return nil, err
	}
	if cfg.instance == "" {
		cfg.instance = defaultInstance()
	}
	if err := ValidateInstance(cfg.instance); err != nil {
		return nil, err
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("bundlesource: %w", err)
	}
	m, err := newMetrics(cfg.registerer, cfg.service, cfg.instance)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s := &Source{
		cfg:     cfg,
		nc:      nc,
		js:      js,
		engine:  engine,
		metrics: m,
		log:     cfg.logger.With("service", cfg.service, "instance", cfg.instance),
		ctx:     runCtx,
		cancel:  cancel,
		changed: make(chan struct{}),
		ready:   make(chan struct{}),
		notify:  make(chan struct{}, 1),
		buckets: make(map[string]jetstream.ObjectStore),
	}
	s.loadLastKnownGood()

	s.wg.Add(4)
	go s.applyLoop()
	go s.heartbeatLoop()
	go s.follow(cfg.subjects.Bundle(cfg.service), "")
	go s.follow(cfg.subjects.Keys(), KindKeySet)

	select {
	case <-s.ready:
		return s, nil
	case <-ctx.Done():
		last := s.LastError()
		s.Close()
		if last != nil {
			return nil, fmt.Errorf("bundlesource: no bundle for service %s became active: %w (last error: %w)", cfg.service, ctx.Err(), last)
		}
		return nil, fmt.Errorf("bundlesource: no bundle for service %s became active: %w", cfg.service, ctx.Err())
	}
}

// defaultInstance derives an instance id unique per process: the host
// name (reduced to subject-safe bytes) and a random suffix.
func defaultInstance() string {
	host, _ := os.Hostname()
	var b strings.Builder
	for i := 0; i < len(host) && b.Len() < 64; i++ {
		c := host[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		b.WriteString("pdp")
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	return b.String() + "-" + hex.EncodeToString(r[:])
}

// loadLastKnownGood activates the cached bundle, after applying the cached
// key set that may vouch for its signer. What is on disk is verified like
// anything from the network.
func (s *Source) loadLastKnownGood() {
	dir := s.cfg.cacheDir
	if dir == "" {
		return
	}
	if ks, err := bundle.ReadKeySetFile(dir); err == nil {
		if err := s.cfg.trust.Apply(ks); err != nil && !errors.Is(err, bundle.ErrStale) {
			s.log.Warn("cached key set refused", "err", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		s.log.Warn("cached key set unreadable", "err", err)
	}
	start := time.Now()
	b, err := bundle.ReadFile(dir, s.cfg.service, s.cfg.trust, bundle.WithMaxSize(s.cfg.maxSize))
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err == nil {
		err = s.activate(b, start)
	}
	if err != nil {
		s.log.Warn("last-known-good bundle refused", "err", err)
		s.setError(fmt.Errorf("last-known-good bundle: %w", err))
		return
	}
	s.log.Info("last-known-good bundle active", "revision", b.Manifest().Revision, "digest", b.Digest())
}

// activate compiles b into the engine and makes it the state heartbeats
// report; start is when its verification began, for the activation time.
func (s *Source) activate(b *bundle.Bundle, start time.Time) error {
	p, err := pdp.PolicyFromBundle(b)
	if err != nil {
		return err
	}
	if g := s.cfg.group; g != nil {
		if err := g.acquire(s.ctx); err != nil {
			return err
		}
		err = s.engine.Activate(s.ctx, p)
		g.release()
	} else {
		err = s.engine.Activate(s.ctx, p)
	}
	if err != nil {
		return err
	}
	m := b.Manifest()
	s.metrics.activation.Observe(time.Since(start).Seconds())
	s.metrics.bundles.WithLabelValues(resultApplied).Inc()
	s.metrics.revision.Set(float64(m.Revision))
	// Observers hear of the activation before waiters are released, so
	// that whoever waited for a revision also sees it observed.
	if s.cfg.observer != nil {
		s.cfg.observer.Activated(m)
	}
	s.mu.Lock()
	s.state = state{revision: m.Revision, digest: b.Digest()}
	s.signalLocked()
	s.mu.Unlock()
	s.readyOnce()
	return nil
}

// readyOnce releases New.
func (s *Source) readyOnce() {
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
}

// setError records a refusal for heartbeats and LastError; the active
// bundle stays.
func (s *Source) setError(err error) {
	s.mu.Lock()
	s.state.lastError = err
	s.signalLocked()
	s.mu.Unlock()
}

// signalLocked wakes every WaitForRevision.
func (s *Source) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Source) snapshot() state {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Revision returns the active revision, 0 before the first bundle.
func (s *Source) Revision() uint64 { return s.snapshot().revision }

// Digest returns the active bundle's content digest, empty before the
// first bundle.
func (s *Source) Digest() string { return s.snapshot().digest }

// Instance returns the instance id heartbeats carry, so that callers can
// find this PDP in the PAP's rollout view.
func (s *Source) Instance() string { return s.cfg.instance }

// LastError returns why the last bundle or key set was refused since the
// last activation (wrapping bundle.ErrSignature, bundle.ErrStale...), or
// nil when the newest bundle received is active.
func (s *Source) LastError() error { return s.snapshot().lastError }

// WaitForRevision blocks until revision rev or a newer one is active, ctx
// ends, or the Source is closed (ErrClosed). Tests, benchmarks and
// rollouts use it instead of polling Revision.
func (s *Source) WaitForRevision(ctx context.Context, rev uint64) error {
	for {
		s.mu.Lock()
		cur, ch, closed := s.state.revision, s.changed, s.closed
		s.mu.Unlock()
		if cur >= rev {
			return nil
		}
		if closed {
			return ErrClosed
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops following bundles, sends a last heartbeat marking the PDP as
// stopping and removes the Source's consumers and metrics. The engine keeps
// its active policy. It is idempotent and always returns nil.
func (s *Source) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.publishHeartbeat(true)
		if s.nc.IsConnected() {
			_ = s.nc.FlushTimeout(time.Second)
		}
		s.metrics.unregister(s.cfg.registerer)
		s.mu.Lock()
		s.closed = true
		s.signalLocked()
		s.mu.Unlock()
	})
	return nil
}
