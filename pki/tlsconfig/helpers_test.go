package tlsconfig_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

const td = "example.org"

var admin = spiffeid.Must(td, "admin")

type clock struct {
	mu sync.Mutex
	t  time.Time
}

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

// env is a CA plus the clock it and the verifiers share.
type env struct {
	ca    *ca.CA
	clock *clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{clock: &clock{t: time.Now()}}
	c, err := ca.New(t.Context(), t.TempDir(), ca.WithTrustDomain(td), ca.WithClock(e.clock.Now),
		ca.WithLogger(slog.New(slog.DiscardHandler)), ca.WithAuditSink(ca.SlogAudit(slog.New(slog.DiscardHandler))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	e.ca = c
	return e
}

func (e *env) svid(t testing.TB, service string, profile ca.Profile, lifetime time.Duration) *x509svid.SVID {
	t.Helper()
	key, err := keyfile.Generate(keyfile.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.ca.Issue(context.Background(), ca.IssueRequest{
		PublicKey: key.Public(), Service: service, Profile: profile, Lifetime: lifetime,
		DNSNames: hostsFor(profile), IPAddresses: ipsFor(profile),
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

func hostsFor(p ca.Profile) []string {
	if p.AllowsHosts() {
		return []string{"localhost"}
	}
	return nil
}

func ipsFor(p ca.Profile) []net.IP {
	if p.AllowsHosts() {
		return []net.IP{net.ParseIP("127.0.0.1")}
	}
	return nil
}

func (e *env) source(t testing.TB, service string) *tlsconfig.Source {
	t.Helper()
	src, err := tlsconfig.NewSource(e.svid(t, service, ca.ProfilePeer, 0), e.ca.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// logRecorder is a slog handler that keeps records for assertions.
type logRecorder struct {
	mu      sync.Mutex
	records []record
}

type record struct {
	msg   string
	attrs map[string]string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	rec := record{msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	l.records = append(l.records, rec)
	l.mu.Unlock()
	return nil
}

func (l *logRecorder) logger() *slog.Logger { return slog.New(l) }

// find returns the records with msg.
func (l *logRecorder) find(msg string) []record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []record
	for _, r := range l.records {
		if r.msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// waitFor polls until a record with msg and the given attributes appears.
func (l *logRecorder) waitFor(t *testing.T, msg string, attrs map[string]string) record {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, r := range l.find(msg) {
			ok := true
			for k, v := range attrs {
				if r.attrs[k] != v {
					ok = false
				}
			}
			if ok {
				return r
			}
		}
		if time.Now().After(deadline) {
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("no log %q with %v; have %+v", msg, attrs, l.records)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// handshake runs one real TLS handshake over loopback TCP. The server writes
// one byte after its handshake and the client reads it, so that a refusal of
// the client certificate (seen by TLS 1.3 clients only after their own
// handshake) surfaces as the client's error.
func handshake(t *testing.T, serverCfg, clientCfg *tls.Config) (cs tls.ConnectionState, serverErr, clientErr error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		err = c.(*tls.Conn).Handshake()
		if err == nil {
			_, err = c.Write([]byte("x"))
		}
		done <- err
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), clientCfg)
	if err == nil {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 1)
		_, err = conn.Read(buf)
		cs = conn.ConnectionState()
		conn.Close()
	}
	return cs, <-done, err
}

func bundleOf(t *testing.T, cas ...*ca.CA) *x509bundle.Bundle {
	t.Helper()
	var roots []*x509.Certificate
	for _, c := range cas {
		roots = append(roots, c.Root())
	}
	b, err := x509bundle.New(roots...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
