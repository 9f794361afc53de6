package revocation_test

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

const td = "example.org"

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func connectNATS(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.Name(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// uniqueSubject isolates a test on a shared server.
func uniqueSubject() string {
	var r [6]byte
	_, _ = rand.Read(r[:])
	return revocation.Subject + ".test." + hex.EncodeToString(r[:])
}

// propagation is one CA publishing revocations and one relying party (a
// TLS server, as a PDP or the PAP runs) subscribed to them.
type propagation struct {
	ca      *ca.CA
	set     *revocation.Set // the relying party's set, fed only by NATS
	sub     *revocation.Subscriber
	tracker *tlsconfig.ConnTracker
	addr    string
}

func newPropagation(t testing.TB) *propagation {
	t.Helper()
	ctx := t.Context()
	url := natstest.URL(t)
	subject := uniqueSubject()
	pub := revocation.NewPublisher(connectNATS(t, url), revocation.WithSubject(subject), revocation.WithNATSLogger(quiet()))
	c, err := ca.New(ctx, t.TempDir(), ca.WithTrustDomain(td), ca.WithLogger(quiet()),
		ca.WithAuditSink(ca.SlogAudit(quiet())), ca.WithRevocationNotifier(pub))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	p := &propagation{ca: c, set: revocation.NewSet()}
	p.sub, err = revocation.Subscribe(ctx, connectNATS(t, url), p.set, revocation.WithSubject(subject), revocation.WithNATSLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.sub.Close() })

	src, err := tlsconfig.NewSource(p.issue(t, "pdp"), c.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	p.tracker = tlsconfig.NewConnTracker(p.set, tlsconfig.WithLogger(quiet()))
	t.Cleanup(func() { _ = p.tracker.Close() })
	var lc net.ListenConfig
	raw, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := p.tracker.Listener(raw, tlsconfig.ServerConfig(src, tlsconfig.WithRevocationChecker(p.set), tlsconfig.WithLogger(quiet())))
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_, _ = io.Copy(conn, conn)
			}()
		}
	}()
	p.addr = raw.Addr().String()
	return p
}

func (p *propagation) issue(t testing.TB, service string) *x509svid.SVID {
	t.Helper()
	key, err := keyfile.Generate(keyfile.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: key.Public(), Service: service, Profile: ca.ProfilePeer})
	if err != nil {
		t.Fatal(err)
	}
	s, err := x509svid.New(got.Chain(), key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// dial opens an echo connection as svid and proves it works.
func (p *propagation) dial(t testing.TB, svid *x509svid.SVID) (*tls.Conn, error) {
	t.Helper()
	src, err := tlsconfig.NewSource(svid, p.ca.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	cfg := tlsconfig.ClientConfig(src, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(td, "pdp"))), tlsconfig.WithLogger(quiet()))
	d := tls.Dialer{Config: cfg}
	nc, err := d.DialContext(t.Context(), "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	conn := nc.(*tls.Conn)
	if err := echo(conn); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return conn, nil
}

// echo round-trips one message; in TLS 1.3 a refused client certificate
// shows up here, on the first read.
func echo(conn *tls.Conn) error {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	defer func() { _ = conn.SetDeadline(time.Time{}) }()
	if _, err := conn.Write([]byte("ping")); err != nil {
		return err
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(conn, buf); err != nil {
		return err
	}
	if string(buf) != "ping" {
		return errors.New("echo mismatch")
	}
	return nil
}

// waitClosed waits until the peer closes conn; a timeout is a failure.
func waitClosed(conn *tls.Conn, timeout time.Duration) error {
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	_, err := conn.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	if err == nil {
		return errors.New("connection still delivers data")
	}
	return nil
}
