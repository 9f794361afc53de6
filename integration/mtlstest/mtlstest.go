// Package mtlstest gives tests of Verdict's servers and clients a real CA
// (pki/ca in a temporary directory) issuing short-lived SPIFFE
// certificates, expired ones on demand, and a slog handler that records
// log lines for assertions. Only tests import it.
package mtlstest

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// TrustDomain is the trust domain of every test CA.
const TrustDomain = "example.org"

// ID returns the identity of service in TrustDomain.
func ID(service string) spiffeid.ID { return spiffeid.Must(TrustDomain, service) }

// CA is a certificate authority for one test.
type CA struct {
	*ca.CA
	// offset shifts the CA's clock, to issue certificates in the past.
	offset atomic.Int64
	mu     sync.Mutex // serializes issuance at a shifted clock
}

// NewCA creates a CA in a temporary directory, closed when the test ends.
func NewCA(t testing.TB) *CA {
	t.Helper()
	c := &CA{}
	quiet := slog.New(slog.DiscardHandler)
	authority, err := ca.New(context.WithoutCancel(t.Context()), t.TempDir(), ca.WithTrustDomain(TrustDomain),
		ca.WithLogger(quiet), ca.WithAuditSink(ca.SlogAudit(quiet)),
		ca.WithClock(func() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = authority.Close() })
	c.CA = authority
	return c
}

// SVID issues a peer certificate (client and server auth, SANs localhost
// and 127.0.0.1) for service, with the given lifetime (0: the CA default).
func (c *CA) SVID(t testing.TB, service string, lifetime time.Duration) *x509svid.SVID {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.issue(t, service, lifetime)
}

func (c *CA) issue(t testing.TB, service string, lifetime time.Duration) *x509svid.SVID {
	t.Helper()
	key, err := keyfile.Generate(keyfile.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Issue(context.WithoutCancel(t.Context()), ca.IssueRequest{
		PublicKey: key.Public(), Service: service, Profile: ca.ProfilePeer, Lifetime: lifetime,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := x509svid.New(got.Chain(), key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ExpiredSVID issues a certificate for service that expired an hour ago.
func (c *CA) ExpiredSVID(t testing.TB, service string) *x509svid.SVID {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset.Store(int64(-3 * time.Hour))
	defer c.offset.Store(0)
	return c.issue(t, service, time.Hour)
}

// Source returns a Source holding a fresh certificate for service and the
// CA's bundle.
func (c *CA) Source(t testing.TB, service string) *tlsconfig.Source {
	t.Helper()
	return c.SourceOf(t, c.SVID(t, service, 0))
}

// SourceOf returns a Source holding svid and the CA's bundle.
func (c *CA) SourceOf(t testing.TB, svid *x509svid.SVID) *tlsconfig.Source {
	t.Helper()
	src, err := tlsconfig.NewSource(svid, c.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// Serial is the hexadecimal serial of svid's leaf, as log lines print it.
func Serial(svid *x509svid.SVID) string { return fmt.Sprintf("%x", svid.Leaf().SerialNumber) }

// Logs is a slog handler recording every line, for assertions on what a
// component logged.
type Logs struct {
	mu      sync.Mutex
	records []Record
}

// Record is one recorded log line with its attributes as strings.
type Record struct {
	Msg   string
	Attrs map[string]string
}

// Logger returns a logger writing into l.
func (l *Logs) Logger() *slog.Logger { return slog.New(l) }

// Enabled implements slog.Handler: every level is recorded.
func (l *Logs) Enabled(context.Context, slog.Level) bool { return true }

// WithAttrs implements slog.Handler; component loggers' own attributes are
// not needed by the assertions.
func (l *Logs) WithAttrs([]slog.Attr) slog.Handler { return l }

// WithGroup implements slog.Handler.
func (l *Logs) WithGroup(string) slog.Handler { return l }

// Handle implements slog.Handler.
func (l *Logs) Handle(_ context.Context, r slog.Record) error {
	rec := Record{Msg: r.Message, Attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	l.records = append(l.records, rec)
	l.mu.Unlock()
	return nil
}

// Find returns the lines with msg whose attributes contain every value of
// attrs (as substrings).
func (l *Logs) Find(msg string, attrs map[string]string) []Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Record
	for _, r := range l.records {
		if r.Msg != msg {
			continue
		}
		if matches(r, attrs) {
			out = append(out, r)
		}
	}
	return out
}

func matches(r Record, attrs map[string]string) bool {
	for k, v := range attrs {
		if got, has := r.Attrs[k]; !has || !strings.Contains(got, v) {
			return false
		}
	}
	return true
}

// WaitFor waits (up to 10 s) for a line Find would return, and fails the
// test with everything recorded when none comes.
func (l *Logs) WaitFor(t testing.TB, msg string, attrs map[string]string) Record {
	t.Helper()
	return l.WaitForNew(t, 0, msg, attrs)
}

// WaitForNew is WaitFor for a line logged after the first skip lines with
// msg (len(Find(msg, nil)) taken before the action), for logs shared by
// several steps.
func (l *Logs) WaitForNew(t testing.TB, skip int, msg string, attrs map[string]string) Record {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		all := l.Find(msg, nil)
		for _, r := range all[min(skip, len(all)):] {
			if matches(r, attrs) {
				return r
			}
		}
		if time.Now().After(deadline) {
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("no log line %q with %v; recorded: %+v", msg, attrs, l.records)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitUntil polls cond (every 10 ms, up to timeout) and fails the test
// naming what when it never holds.
func WaitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
