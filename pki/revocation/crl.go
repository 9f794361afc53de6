package revocation

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStaleCRL means the CRL's NextUpdate has passed and no fresh one could be
// fetched; it is only returned when the checker is configured to fail closed.
var ErrStaleCRL = errors.New("revocation: CRL is stale")

// CRLOption configures NewCRL.
type CRLOption interface{ apply(*crlConfig) }

type crlOptionFunc func(*crlConfig)

func (f crlOptionFunc) apply(c *crlConfig) { f(c) }

type crlConfig struct {
	interval   time.Duration
	client     *http.Client
	failClosed bool
	logger     *slog.Logger
	now        func() time.Time
}

// WithRefresh sets how often the CRL is fetched (default 5 minutes, sooner
// when the CRL's NextUpdate comes first).
func WithRefresh(d time.Duration) CRLOption {
	return crlOptionFunc(func(c *crlConfig) { c.interval = d })
}

// WithHTTPClient sets the client used to fetch the CRL (for example one
// using the workload's mTLS configuration).
func WithHTTPClient(h *http.Client) CRLOption {
	return crlOptionFunc(func(c *crlConfig) { c.client = h })
}

// WithFailClosed makes CheckRevocation refuse every certificate once the CRL
// is past its NextUpdate, instead of trusting the last list (the default,
// since the local Set usually carries fresher events).
func WithFailClosed() CRLOption {
	return crlOptionFunc(func(c *crlConfig) { c.failClosed = true })
}

// WithCRLLogger sets where fetch failures are logged.
func WithCRLLogger(l *slog.Logger) CRLOption {
	return crlOptionFunc(func(c *crlConfig) { c.logger = l })
}

// WithCRLClock replaces time.Now for staleness checks.
func WithCRLClock(now func() time.Time) CRLOption {
	return crlOptionFunc(func(c *crlConfig) { c.now = now })
}

// CRL is a Checker backed by a CRL fetched over HTTP and verified against
// the issuer.
type CRL struct {
	url    string
	issuer *x509.Certificate
	cfg    crlConfig
	cur    atomic.Pointer[crlState]
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

type crlState struct {
	list    *x509.RevocationList
	serials map[string]struct{}
}

// NewCRL fetches the CRL at url once (returning an error if that fails) and
// then refreshes it in the background until Close.
func NewCRL(ctx context.Context, url string, issuer *x509.Certificate, opts ...CRLOption) (*CRL, error) {
	cfg := crlConfig{interval: 5 * time.Minute, client: http.DefaultClient, logger: slog.Default(), now: time.Now}
	for _, o := range opts {
		o.apply(&cfg)
	}
	c := &CRL{url: url, issuer: issuer, cfg: cfg, done: make(chan struct{})}
	if err := c.Refresh(ctx); err != nil {
		return nil, err
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancel = cancel
	go c.loop(bg)
	return c, nil
}

// Refresh fetches and verifies the CRL now. A CRL older (by Number) than the
// current one is ignored, so a lagging replica cannot roll revocations back.
func (c *CRL) Refresh(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return fmt.Errorf("revocation: CRL %s: %w", c.url, err)
	}
	resp, err := c.cfg.client.Do(req)
	if err != nil {
		return fmt.Errorf("revocation: CRL %s: %w", c.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("revocation: CRL %s: HTTP %d", c.url, resp.StatusCode)
	}
	der, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("revocation: CRL %s: %w", c.url, err)
	}
	return c.Load(der)
}

// Load installs a DER CRL after verifying its signature.
func (c *CRL) Load(der []byte) error {
	list, err := x509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("revocation: parse CRL: %w", err)
	}
	if err := list.CheckSignatureFrom(c.issuer); err != nil {
		return fmt.Errorf("revocation: CRL signature: %w", err)
	}
	if old := c.cur.Load(); old != nil && old.list.Number != nil && list.Number != nil && list.Number.Cmp(old.list.Number) < 0 {
		return nil
	}
	st := &crlState{list: list, serials: make(map[string]struct{}, len(list.RevokedCertificateEntries))}
	for _, e := range list.RevokedCertificateEntries {
		st.serials[key(e.SerialNumber)] = struct{}{}
	}
	c.cur.Store(st)
	return nil
}

// CheckRevocation implements Checker.
func (c *CRL) CheckRevocation(cert *x509.Certificate) error {
	st := c.cur.Load()
	if st == nil {
		return nil
	}
	if _, ok := st.serials[key(cert.SerialNumber)]; ok {
		return fmt.Errorf("%w: serial %x listed in CRL", ErrRevoked, cert.SerialNumber)
	}
	if c.cfg.failClosed && !st.list.NextUpdate.IsZero() && c.cfg.now().After(st.list.NextUpdate) {
		return fmt.Errorf("%w: next update was %s", ErrStaleCRL, st.list.NextUpdate.Format(time.RFC3339))
	}
	return nil
}

func (c *CRL) loop(ctx context.Context) {
	defer close(c.done)
	for {
		wait := c.cfg.interval
		if st := c.cur.Load(); st != nil && !st.list.NextUpdate.IsZero() {
			if d := st.list.NextUpdate.Sub(c.cfg.now()); d > 0 && d < wait {
				wait = d
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := c.Refresh(ctx); err != nil && ctx.Err() == nil {
			c.cfg.logger.WarnContext(ctx, "revocation: CRL refresh failed", "url", c.url, "error", err)
		}
	}
}

// Close stops background refreshing; it is idempotent.
func (c *CRL) Close() error {
	c.once.Do(func() {
		c.cancel()
		<-c.done
	})
	return nil
}
