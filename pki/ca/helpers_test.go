package ca_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/spiffeid"
)

const td = "example.org"

var admin = spiffeid.Must(td, "admin")

// clock is a settable time source shared by a CA and its tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// auditLog records audit events.
type auditLog struct {
	mu     sync.Mutex
	events []ca.AuditEvent
}

func (a *auditLog) Audit(_ context.Context, ev ca.AuditEvent) {
	a.mu.Lock()
	a.events = append(a.events, ev)
	a.mu.Unlock()
}

func (a *auditLog) find(action ca.Action, outcome ca.Outcome) []ca.AuditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []ca.AuditEvent
	for _, e := range a.events {
		if e.Action == action && e.Outcome == outcome {
			out = append(out, e)
		}
	}
	return out
}

type fixture struct {
	ca    *ca.CA
	dir   string
	clock *clock
	audit *auditLog
	reg   *prometheus.Registry
}

func newFixture(t *testing.T, opts ...ca.Option) *fixture {
	t.Helper()
	f := &fixture{dir: t.TempDir(), clock: newClock(), audit: &auditLog{}, reg: prometheus.NewRegistry()}
	base := []ca.Option{
		ca.WithTrustDomain(td), ca.WithClock(f.clock.Now), ca.WithAuditSink(f.audit), ca.WithRegisterer(f.reg),
		ca.WithLogger(slog.New(slog.DiscardHandler)),
	}
	c, err := ca.New(t.Context(), f.dir, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	f.ca = c
	return f
}

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := keyfile.Generate(keyfile.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// csr builds a DER CSR for key with the given names.
func csr(t testing.TB, key crypto.Signer, cn string, dns []string, ips []net.IP, uris ...string) []byte {
	t.Helper()
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, DNSNames: dns, IPAddresses: ips}
	for _, u := range uris {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, pu)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue metric
				}
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
