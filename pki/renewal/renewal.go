// Package renewal keeps a workload's certificate fresh: a Renewer renews it
// at two thirds of its lifetime (with jitter, so a fleet issued at once does
// not renew at once) over mTLS with the current certificate, with a new key
// each time, and swaps the result into the workload's tlsconfig.Source, so
// servers and clients pick it up on their next handshake.
package renewal

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// Issuer renews a certificate: it sends the CSR, authenticated by the
// current certificate, and returns the new chain (leaf first) and the
// current trust bundle. caclient.Client implements it over HTTPS.
type Issuer interface {
	Renew(ctx context.Context, csrDER []byte) ([]*x509.Certificate, *x509bundle.Bundle, error)
}

// ErrIdentityChanged means the issuer returned a certificate for another
// identity; it is never installed.
var ErrIdentityChanged = errors.New("renewal: renewed certificate has another identity")

// Event reports the outcome of one renewal attempt.
type Event struct {
	// SVID is the new identity document; nil when Err is set.
	SVID *x509svid.SVID
	// Err is why the attempt failed.
	Err error
	// Next is when the next attempt is scheduled.
	Next time.Time
}

// Renewer renews the certificate held by a Source in the background.
type Renewer struct {
	src    *tlsconfig.Source
	issuer Issuer
	cfg    config
	mu     sync.Mutex // serializes renewals
	next   time.Time
	nextMu sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// New starts renewing src's certificate. It returns at once; if the
// certificate is already due, the first renewal starts immediately in the
// background.
func New(ctx context.Context, src *tlsconfig.Source, issuer Issuer, opts ...Option) (*Renewer, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if src == nil || issuer == nil {
		return nil, errors.New("renewal: source and issuer are required")
	}
	if cfg.jitter < 0 || cfg.jitter > 0.3 {
		return nil, fmt.Errorf("renewal: jitter %v outside [0, 0.3]", cfg.jitter)
	}
	r := &Renewer{src: src, issuer: issuer, cfg: cfg, done: make(chan struct{})}
	r.setNext(r.schedule())
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel = cancel
	go r.loop(bg)
	return r, nil
}

// RenewalTime is when a certificate valid over [notBefore, notAfter] should
// be renewed: at two thirds of its lifetime, moved by up to ±jitter of the
// lifetime according to u in [0, 1), and never after notAfter.
func RenewalTime(notBefore, notAfter time.Time, jitter, u float64) time.Time {
	life := notAfter.Sub(notBefore)
	at := notBefore.Add(life * 2 / 3)
	at = at.Add(time.Duration(float64(life) * jitter * (2*u - 1)))
	if latest := notAfter.Add(-life / 10); at.After(latest) {
		at = latest
	}
	return at
}

func (r *Renewer) schedule() time.Time {
	leaf := r.src.SVID().Leaf()
	return RenewalTime(leaf.NotBefore, leaf.NotAfter, r.cfg.jitter, r.cfg.rand())
}

func (r *Renewer) setNext(t time.Time) {
	r.nextMu.Lock()
	r.next = t
	r.nextMu.Unlock()
}

// NextRenewal returns when the next attempt is scheduled.
func (r *Renewer) NextRenewal() time.Time {
	r.nextMu.Lock()
	defer r.nextMu.Unlock()
	return r.next
}

func (r *Renewer) loop(ctx context.Context) {
	defer close(r.done)
	backoff := r.cfg.minRetry
	for {
		changed := r.src.Changed()
		next := r.NextRenewal()
		var fire <-chan time.Time
		if d := next.Sub(r.cfg.clock.Now()); d > 0 {
			fire = r.cfg.clock.After(d)
		} else {
			c := make(chan time.Time, 1)
			c <- next
			fire = c
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
			// Someone installed a new certificate (RenewNow, a file
			// reload): follow its lifetime.
			r.setNext(r.schedule())
			continue
		case <-fire:
		}
		svid, err := r.renew(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			retry := r.cfg.clock.Now().Add(backoff)
			backoff = min(backoff*2, r.cfg.maxRetry)
			r.setNext(retry)
			r.cfg.logger.WarnContext(ctx, "renewal failed", "id", r.src.SVID().ID.String(),
				"not_after", r.src.SVID().Leaf().NotAfter, "retry_at", retry, "error", err)
			r.notify(Event{Err: err, Next: retry})
			continue
		}
		backoff = r.cfg.minRetry
		r.setNext(r.schedule())
		r.notify(Event{SVID: svid, Next: r.NextRenewal()})
	}
}

func (r *Renewer) notify(ev Event) {
	if r.cfg.notify != nil {
		r.cfg.notify(ev)
	}
}

// RenewNow renews immediately (for example after the operator rotated the
// CA) and returns the new SVID.
func (r *Renewer) RenewNow(ctx context.Context) (*x509svid.SVID, error) {
	svid, err := r.renew(ctx)
	if err == nil {
		r.notify(Event{SVID: svid, Next: r.NextRenewal()})
	}
	return svid, err
}

// renew performs one renewal: new key, CSR, issuer call, checks, persist,
// swap.
func (r *Renewer) renew(ctx context.Context) (*x509svid.SVID, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := r.src.SVID()
	key, err := keyfile.Generate(r.cfg.keyAlgorithm)
	if err != nil {
		return nil, fmt.Errorf("renewal: %w", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cur.ID.Service()},
		URIs:    []*url.URL{cur.ID.URL()},
	}, key)
	if err != nil {
		return nil, fmt.Errorf("renewal: CSR: %w", err)
	}
	callCtx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	chain, bundle, err := r.issuer.Renew(callCtx, csr)
	if err != nil {
		return nil, fmt.Errorf("renewal: %w", err)
	}
	svid, err := x509svid.New(chain, key)
	if err != nil {
		return nil, fmt.Errorf("renewal: %w", err)
	}
	if svid.ID != cur.ID {
		return nil, fmt.Errorf("%w: %s, want %s", ErrIdentityChanged, svid.ID, cur.ID)
	}
	if r.cfg.files.Cert != "" {
		if err := svid.WriteFiles(r.cfg.files.Cert, r.cfg.files.Key); err != nil {
			return nil, fmt.Errorf("renewal: %w", err)
		}
		if bundle != nil && r.cfg.files.Bundle != "" {
			if err := bundle.WriteFile(r.cfg.files.Bundle); err != nil {
				return nil, fmt.Errorf("renewal: %w", err)
			}
		}
	}
	r.src.Set(svid, bundle)
	r.cfg.logger.InfoContext(ctx, "renewed certificate", "id", svid.ID.String(),
		"serial", fmt.Sprintf("%x", svid.Leaf().SerialNumber), "not_after", svid.Leaf().NotAfter)
	return svid, nil
}

// Close stops the renewer; it is idempotent.
func (r *Renewer) Close() error {
	r.once.Do(func() {
		r.cancel()
		<-r.done
	})
	return nil
}

// Clock is the time source of a Renewer; tests inject a fake one to move
// through certificate lifetimes instantly.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	clock        Clock
	jitter       float64
	rand         func() float64
	notify       func(Event)
	logger       *slog.Logger
	files        tlsconfig.Files
	keyAlgorithm keyfile.Algorithm
	minRetry     time.Duration
	maxRetry     time.Duration
	timeout      time.Duration
}

func defaultConfig() config {
	return config{
		clock: realClock{}, jitter: 0.05, rand: mrand.Float64, logger: slog.Default(),
		keyAlgorithm: keyfile.ECDSAP256, minRetry: time.Second, maxRetry: time.Minute, timeout: 30 * time.Second,
	}
}

// WithClock sets the time source (default: the real clock).
func WithClock(c Clock) Option { return optionFunc(func(cfg *config) { cfg.clock = c }) }

// WithJitter sets the jitter as a fraction of the lifetime (default 0.05,
// at most 0.3; 0 renews exactly at two thirds).
func WithJitter(fraction float64) Option {
	return optionFunc(func(cfg *config) { cfg.jitter = fraction })
}

// WithNotify reports every attempt's outcome; f runs on the renewer's
// goroutine and must not block.
func WithNotify(f func(Event)) Option { return optionFunc(func(cfg *config) { cfg.notify = f }) }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(cfg *config) {
		if l != nil {
			cfg.logger = l
		}
	})
}

// WithFiles persists each renewed certificate, key (0600) and bundle, so a
// restart resumes with the latest certificate.
func WithFiles(f tlsconfig.Files) Option { return optionFunc(func(cfg *config) { cfg.files = f }) }

// WithKeyAlgorithm sets the algorithm of the fresh key generated for each
// renewal (default ECDSA P-256).
func WithKeyAlgorithm(a keyfile.Algorithm) Option {
	return optionFunc(func(cfg *config) { cfg.keyAlgorithm = a })
}

// WithRetry sets the exponential backoff bounds after a failed attempt
// (default 1s to 1m).
func WithRetry(minWait, maxWait time.Duration) Option {
	return optionFunc(func(cfg *config) {
		if minWait > 0 {
			cfg.minRetry = minWait
		}
		if maxWait >= cfg.minRetry {
			cfg.maxRetry = maxWait
		}
	})
}
