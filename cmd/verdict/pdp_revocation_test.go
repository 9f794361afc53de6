package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/integration/mtlstest"
	"github.com/verdict-authz/verdict/integration/natstest"
	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

const todoReadBody = `{"subject":{"type":"user","id":"CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},"action":{"name":"can_read_todos"},"resource":{"type":"todo","id":"1"}}`

// mtlsServe runs `verdict pdp serve` with certificates of authority in dir
// and the given extra tls: keys (YAML flow entries).
func mtlsServe(t *testing.T, authority *mtlstest.CA, dir, tlsExtra string) (*serving, *x509svid.SVID) {
	t.Helper()
	svid := authority.SVID(t, "pdp", 0)
	if err := svid.WriteFiles(filepath.Join(dir, "pdp.pem"), filepath.Join(dir, "pdp-key.pem")); err != nil {
		t.Fatal(err)
	}
	if err := authority.Bundle().WriteFile(filepath.Join(dir, "root.pem")); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("../../policies/authzen-todo")
	if err != nil {
		t.Fatal(err)
	}
	cfg := `listen: {http: 127.0.0.1:0, grpc: 127.0.0.1:0}
tls: {cert: pdp.pem, key: pdp-key.pem, client_ca: root.pem` + tlsExtra + `}
policies: [` + filepath.Join(abs, "todo.xml") + `]
pips:
  - {type: json-file, file: ` + filepath.Join(abs, "users.json") + `, key: {category: subject, attribute: id}}
`
	if err := os.WriteFile(filepath.Join(dir, "pdp.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return serveCommand(t, "--config", filepath.Join(dir, "pdp.yaml")), svid
}

// evaluateOn sends the Todo read request on one HTTP/1.1 keep-alive
// connection.
func evaluateOn(conn *tls.Conn, rd *bufio.Reader) error {
	req, err := http.NewRequest(http.MethodPost, "https://pdp/access/v1/evaluation", strings.NewReader(todoReadBody))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	defer func() { _ = conn.SetDeadline(time.Time{}) }()
	if err := req.Write(conn); err != nil {
		return err
	}
	resp, err := http.ReadResponse(rd, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"decision":true`) {
		return fmt.Errorf("%s %s", resp.Status, body)
	}
	return nil
}

// TestPDPServeRevocation: with tls.revocation.nats, a revocation event
// published on NATS (plain, or tls:// with the PDP's own certificate)
// closes the open connection of the revoked client and refuses its new
// ones; other clients are served.
func TestPDPServeRevocation(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "nats", true: "tls"}[secure], func(t *testing.T) { testPDPServeRevocation(t, secure) })
	}
}

func testPDPServeRevocation(t *testing.T, secure bool) {
	authority := mtlstest.NewCA(t)
	var r [6]byte
	_, _ = rand.Read(r[:])
	subject := revocation.Subject + ".test." + hex.EncodeToString(r[:])
	url, extra, pubOpts := natstest.URL(t), "", []nats.Option(nil)
	if secure {
		ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, TLSTimeout: 5,
			TLSConfig: tlsconfig.ServerConfig(authority.Source(t, "nats"), tlsconfig.WithLogger(discardLogger()))})
		if err != nil {
			t.Fatal(err)
		}
		ns.Start()
		t.Cleanup(ns.Shutdown)
		if !ns.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats-server not ready")
		}
		url, extra = ns.ClientURL(), ", nats_server: spiffe://example.org/service/nats"
		if !strings.HasPrefix(url, "tls://") {
			url = "tls://" + strings.TrimPrefix(url, "nats://")
		}
		pubOpts = append(pubOpts, nats.Secure(tlsconfig.ClientConfig(authority.Source(t, "ca"),
			tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(mtlstest.ID("nats"))), tlsconfig.WithLogger(discardLogger()))))
	}
	s, _ := mtlsServe(t, authority, t.TempDir(), `, revocation: {nats: "`+url+`", subject: `+subject+extra+`}`)

	client := authority.SVID(t, "orders", 0)
	cfg := tlsconfig.ClientConfig(authority.SourceOf(t, client), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(mtlstest.ID("pdp"))),
		tlsconfig.WithLogger(discardLogger()))
	cfg.NextProtos = []string{"http/1.1"}
	dial := func(cfg *tls.Config) (*tls.Conn, *bufio.Reader, error) {
		d := tls.Dialer{Config: cfg}
		c, err := d.DialContext(t.Context(), "tcp", s.httpAddr)
		if err != nil {
			return nil, nil, err
		}
		t.Cleanup(func() { _ = c.Close() })
		return c.(*tls.Conn), bufio.NewReader(c), nil
	}
	conn, rd, err := dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := evaluateOn(conn, rd); err != nil {
		t.Fatalf("before revocation: %v", err)
	}

	nc, err := nats.Connect(url, pubOpts...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	pub := revocation.NewPublisher(nc, revocation.WithSubject(subject), revocation.WithNATSLogger(discardLogger()))
	if err := pub.Publish(t.Context(), revocation.Entry{Serial: new(big.Int).Set(client.Leaf().SerialNumber), RevokedAt: time.Now(), Reason: 1}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = rd.ReadByte()
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("the revoked client's open connection was not closed: %v", err)
	}
	again, rd2, err := dial(cfg)
	if err == nil {
		err = evaluateOn(again, rd2)
	}
	if _, ok := tlsconfig.RemoteRejection(err); !ok {
		t.Fatalf("revoked client reconnecting: err = %v, want the PDP's TLS alert", err)
	}
	serial := mtlstest.Serial(client)
	mtlstest.WaitUntil(t, 10*time.Second, "the PDP's refusal line", func() bool {
		out := s.stderr.String()
		return strings.Contains(out, "tls: refused peer certificate") && strings.Contains(out, "reason=revoked") && strings.Contains(out, "serial="+serial)
	})

	other := tlsconfig.ClientConfig(authority.Source(t, "orders"), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(mtlstest.ID("pdp"))))
	other.NextProtos = []string{"http/1.1"}
	fresh, rd3, err := dial(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := evaluateOn(fresh, rd3); err != nil {
		t.Fatalf("another client after the revocation: %v", err)
	}
}

// TestPDPServeReloadsCertificates: with tls.reload, certificate files
// rewritten on disk (as renewal does) are served without a restart, while
// clients keep being served.
func TestPDPServeReloadsCertificates(t *testing.T) {
	authority := mtlstest.NewCA(t)
	dir := t.TempDir()
	s, _ := mtlsServe(t, authority, dir, `, reload: 50ms`)
	src := authority.Source(t, "orders")
	hc := tlsconfig.HTTPClient(src, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(mtlstest.ID("pdp"))), tlsconfig.WithLogger(discardLogger()))
	defer hc.CloseIdleConnections()
	cfg := tlsconfig.ClientConfig(src, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(mtlstest.ID("pdp"))), tlsconfig.WithLogger(discardLogger()))

	ctx, stop := context.WithCancel(t.Context())
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+s.httpAddr+"/access/v1/evaluation", strings.NewReader(todoReadBody))
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					err = errors.New(resp.Status)
				}
			}
			switch {
			case err == nil:
				ok.Add(1)
			case ctx.Err() == nil:
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
		}
	}()
	for i := range 3 {
		next := authority.SVID(t, "pdp", time.Minute)
		if err := next.WriteFiles(filepath.Join(dir, "pdp.pem"), filepath.Join(dir, "pdp-key.pem")); err != nil {
			t.Fatal(err)
		}
		want := mtlstest.Serial(next)
		mtlstest.WaitUntil(t, 10*time.Second, fmt.Sprintf("rotation %d to serve serial %s", i+1, want), func() bool {
			conn, err := tls.Dial("tcp", s.httpAddr, cfg.Clone())
			if err != nil {
				return false
			}
			defer conn.Close()
			return fmt.Sprintf("%x", conn.ConnectionState().PeerCertificates[0].SerialNumber) == want
		})
	}
	stop()
	<-done
	if failed.Load() > 0 {
		t.Fatalf("%d of %d requests failed while certificates were reloaded; first: %v", failed.Load(), ok.Load()+failed.Load(), firstErr.Load())
	}
	if ok.Load() == 0 {
		t.Fatal("no request was made")
	}
	if !strings.Contains(s.stderr.String(), "tls: reloaded certificate") {
		t.Fatalf("no reload line in the log: %s", s.stderr.String())
	}
}

// TestPDPServeCRL: with tls.revocation.crl_url, a client revoked before
// the PDP started (no event to hear) is refused from the CA's CRL.
func TestPDPServeCRL(t *testing.T) {
	authority := mtlstest.NewCA(t)
	revoked := authority.SVID(t, "orders", 0)
	if err := authority.Revoke(t.Context(), ca.RevokeRequest{Caller: mtlstest.ID("admin"), Serial: revoked.Leaf().SerialNumber, Reason: 1}); err != nil {
		t.Fatal(err)
	}
	crl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pkix-crl")
		_, _ = w.Write(authority.CRL().DER)
	}))
	t.Cleanup(crl.Close)
	s, _ := mtlsServe(t, authority, t.TempDir(), `, revocation: {crl_url: "`+crl.URL+`/crl"}`)

	post := func(svid *x509svid.SVID) error {
		hc := tlsconfig.HTTPClient(authority.SourceOf(t, svid), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(mtlstest.ID("pdp"))), tlsconfig.WithLogger(discardLogger()))
		defer hc.CloseIdleConnections()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, "https://"+s.httpAddr+"/access/v1/evaluation", strings.NewReader(todoReadBody))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		return nil
	}
	if err := post(revoked); err == nil {
		t.Fatal("a client listed in the CRL was served")
	}
	mtlstest.WaitUntil(t, 10*time.Second, "the PDP's refusal line", func() bool {
		out := s.stderr.String()
		return strings.Contains(out, "reason=revoked") && strings.Contains(out, "serial="+mtlstest.Serial(revoked)) && strings.Contains(out, "listed in CRL")
	})
	if err := post(authority.SVID(t, "orders", 0)); err != nil {
		t.Fatalf("a client not in the CRL: %v", err)
	}
}
