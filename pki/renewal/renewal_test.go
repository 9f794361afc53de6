package renewal_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"log/slog"
	"math/big"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/renewal"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

func TestRenewalTime(t *testing.T) {
	nb := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	na := nb.Add(24 * time.Hour)
	if got := renewal.RenewalTime(nb, na, 0, 0.7); !got.Equal(nb.Add(16 * time.Hour)) {
		t.Fatalf("no jitter: %s", got)
	}
	lo, hi := renewal.RenewalTime(nb, na, 0.05, 0), renewal.RenewalTime(nb, na, 0.05, 0.999999)
	if !lo.Equal(nb.Add(16*time.Hour-72*time.Minute)) || hi.Sub(nb.Add(16*time.Hour+72*time.Minute)).Abs() > time.Second {
		t.Fatalf("jitter bounds: %s %s", lo, hi)
	}
	if got := renewal.RenewalTime(nb, na, 0.3, 0.999); got.After(na.Add(-24 * time.Hour / 10)) {
		t.Fatalf("renewal too close to expiry: %s", got)
	}
}

// ca is a minimal in-memory issuer for unit tests.
type ca struct {
	mu      sync.Mutex
	cert    *x509.Certificate
	key     any
	bundle  *x509bundle.Bundle
	now     func() time.Time
	fail    error
	service string
	calls   int
}

func newCA(t *testing.T, now func() time.Time) *ca {
	key, _ := keyfile.Generate(keyfile.ECDSAP256)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"}, NotBefore: now().Add(-time.Hour),
		NotAfter: now().Add(1000 * time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	b, _ := x509bundle.New(c)
	return &ca{cert: c, key: key, bundle: b, now: now}
}

func (c *ca) sign(pub any, service string) (*x509.Certificate, error) {
	u, _ := url.Parse("spiffe://example.org/service/" + service)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, NotBefore: c.now(), NotAfter: c.now().Add(30 * time.Minute), URIs: []*url.URL{u}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, pub, c.key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func (c *ca) Renew(_ context.Context, csrDER []byte) ([]*x509.Certificate, *x509bundle.Bundle, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	if c.fail != nil {
		return nil, nil, c.fail
	}
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, nil, err
	}
	service := "billing"
	if c.service != "" {
		service = c.service
	}
	leaf, err := c.sign(csr.PublicKey, service)
	if err != nil {
		return nil, nil, err
	}
	return []*x509.Certificate{leaf}, c.bundle, nil
}

type clock struct {
	mu  sync.Mutex
	now time.Time
	ch  []chan time.Time
	at  []time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.ch, c.at = append(c.ch, ch), append(c.at, c.now.Add(d))
	return ch
}
func (c *clock) pending() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.ch) }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	var ch []chan time.Time
	var at []time.Time
	for i := range c.ch {
		if !c.at[i].After(c.now) {
			c.ch[i] <- c.now
		} else {
			ch, at = append(ch, c.ch[i]), append(at, c.at[i])
		}
	}
	c.ch, c.at = ch, at
}

func (c *clock) waitPending(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.pending() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("renewer never armed its timer")
		}
		time.Sleep(time.Millisecond)
	}
}

func setup(t *testing.T) (*clock, *ca, *tlsconfig.Source) {
	clk := &clock{now: time.Now().Truncate(time.Second)}
	c := newCA(t, clk.Now)
	key, _ := keyfile.Generate(keyfile.ECDSAP256)
	leaf, err := c.sign(key.Public(), "billing")
	if err != nil {
		t.Fatal(err)
	}
	svid, err := x509svid.New([]*x509.Certificate{leaf}, key)
	if err != nil {
		t.Fatal(err)
	}
	src, err := tlsconfig.NewSource(svid, c.bundle)
	if err != nil {
		t.Fatal(err)
	}
	return clk, c, src
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestRetryWithBackoffThenRecover(t *testing.T) {
	clk, c, src := setup(t)
	c.fail = errors.New("CA down")
	events := make(chan renewal.Event, 16)
	r, err := renewal.New(t.Context(), src, c, renewal.WithClock(clk), renewal.WithJitter(0), renewal.WithRetry(time.Second, 4*time.Second),
		renewal.WithNotify(func(ev renewal.Event) { events <- ev }), renewal.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	clk.waitPending(t)
	clk.Advance(20 * time.Minute)
	var waits []time.Duration
	for range 4 {
		ev := <-events
		if ev.Err == nil {
			t.Fatal("renewal succeeded while the CA is down")
		}
		waits = append(waits, ev.Next.Sub(clk.Now()))
		clk.waitPending(t)
		clk.Advance(ev.Next.Sub(clk.Now()))
	}
	if waits[0] != time.Second || waits[1] != 2*time.Second || waits[2] != 4*time.Second || waits[3] != 4*time.Second {
		t.Fatalf("backoff = %v, want 1s 2s 4s 4s", waits)
	}
	c.mu.Lock()
	c.fail = nil
	c.mu.Unlock()
	ev := <-events
	for ev.Err != nil {
		clk.waitPending(t)
		clk.Advance(ev.Next.Sub(clk.Now()))
		ev = <-events
	}
	if ev.SVID == nil || src.SVID() != ev.SVID {
		t.Fatal("recovered renewal not installed")
	}
}

func TestIdentityChangeRefused(t *testing.T) {
	_, c, src := setup(t)
	c.service = "evil"
	r, err := renewal.New(t.Context(), src, c, renewal.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	before := src.SVID()
	if _, err := r.RenewNow(t.Context()); !errors.Is(err, renewal.ErrIdentityChanged) {
		t.Fatalf("err = %v, want ErrIdentityChanged", err)
	}
	if src.SVID() != before || src.SVID().ID != spiffeid.Must("example.org", "billing") {
		t.Fatal("foreign identity installed")
	}
}

func TestCloseStopsRenewer(t *testing.T) {
	clk, c, src := setup(t)
	r, err := renewal.New(t.Context(), src, c, renewal.WithClock(clk), renewal.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	clk.waitPending(t)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	time.Sleep(20 * time.Millisecond)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.calls != 0 {
		t.Fatalf("renewer ran %d times after Close", c.calls)
	}
	if _, err := renewal.New(t.Context(), src, c, renewal.WithJitter(0.5)); err == nil {
		t.Fatal("jitter 0.5 accepted")
	}
}
