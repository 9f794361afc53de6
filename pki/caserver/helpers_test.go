package caserver_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caclient"
	"github.com/verdict-authz/verdict/pki/caserver"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

const td = "example.org"

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fakeClock is shared by the CA, the servers' verifiers and renewers. After
// registers waiters that Advance fires.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.now.Add(d), ch: ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.ch <- c.now
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// WaitForWaiters blocks until n timers are pending.
func (c *fakeClock) WaitForWaiters(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		got := len(c.waiters)
		c.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d timers pending, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

type fixture struct {
	ca    *ca.CA
	srv   *caserver.Server
	clock *fakeClock
	dir   string
	admin *caclient.Client
}

func newFixture(t testing.TB, caOpts ...ca.Option) *fixture {
	t.Helper()
	f := &fixture{clock: newFakeClock(), dir: t.TempDir()}
	c, err := ca.New(context.Background(), f.dir, append([]ca.Option{ca.WithTrustDomain(td), ca.WithClock(f.clock.Now),
		ca.WithLogger(quiet()), ca.WithAuditSink(ca.SlogAudit(quiet()))}, caOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	f.ca = c
	srv, err := caserver.New(context.Background(), c, caserver.WithLogger(quiet()),
		caserver.WithTLSOptions(tlsconfig.WithClock(f.clock.Now)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	f.srv = srv
	f.admin = f.clientFor(t, f.issue(t, "admin", ca.ProfileClient, 0))
	return f
}

func (f *fixture) issue(t testing.TB, service string, p ca.Profile, lifetime time.Duration) *x509svid.SVID {
	t.Helper()
	key := newKey(t)
	got, err := f.ca.Issue(context.Background(), ca.IssueRequest{PublicKey: key.Public(), Service: service, Profile: p, Lifetime: lifetime})
	if err != nil {
		t.Fatal(err)
	}
	s, err := x509svid.New(got.Chain(), key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) source(t testing.TB, svid *x509svid.SVID) *tlsconfig.Source {
	t.Helper()
	src, err := tlsconfig.NewSource(svid, f.ca.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func (f *fixture) clientFor(t testing.TB, svid *x509svid.SVID) *caclient.Client {
	t.Helper()
	c, err := caclient.New(f.srv.URL(), caclient.WithSource(f.source(t, svid), tlsconfig.WithClock(f.clock.Now), tlsconfig.WithLogger(quiet())))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := keyfile.Generate(keyfile.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newCSR(t testing.TB, key crypto.Signer, cn string, dns ...string) []byte {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, DNSNames: dns}, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// percentile returns the p-th percentile (0..100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}
