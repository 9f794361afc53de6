package server_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"

	"github.com/verdict-authz/verdict/integration/mtlstest"
	"github.com/verdict-authz/verdict/pdp/server"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509svid"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// Generous: revocation normally takes effect in milliseconds.
const revocationTimeout = 10 * time.Second

var pdpID = mtlstest.ID("pdp")

// mtlsPDP is a PDP served over mutual TLS with certificates of a test CA,
// cutting off the serials of its revocation set.
type mtlsPDP struct {
	ca       *mtlstest.CA
	src      *tlsconfig.Source
	set      *revocation.Set
	logs     *mtlstest.Logs
	base     string // https://127.0.0.1:PORT
	grpcAddr string
}

// startMTLS serves the test engine with server.WithRevocation(set) only:
// the TLS configuration itself does not check revocation, so the test
// proves the option refuses handshakes as well as closing connections.
func startMTLS(t *testing.T, authority *mtlstest.CA, opts ...tlsconfig.Option) *mtlsPDP {
	t.Helper()
	p := &mtlsPDP{ca: authority, src: authority.Source(t, "pdp"), set: revocation.NewSet(), logs: &mtlstest.Logs{}}
	tc := tlsconfig.ServerConfig(p.src, append([]tlsconfig.Option{tlsconfig.WithLogger(p.logs.Logger())}, opts...)...)
	r := startEngine(t, testEngine(t, testPIPs(t)), server.WithTLS(tc), server.WithRevocation(p.set), server.WithLogger(p.logs.Logger()))
	p.base = "https://" + strings.TrimPrefix(r.base, "http://")
	p.grpcAddr = r.grpcAddr
	return p
}

// clientTLS is the TLS configuration of a client presenting src's
// certificate and expecting the PDP's identity.
func clientTLS(src *tlsconfig.Source, logs *mtlstest.Logs, opts ...tlsconfig.Option) *tls.Config {
	return tlsconfig.ClientConfig(src, append([]tlsconfig.Option{
		tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(pdpID)), tlsconfig.WithLogger(logs.Logger()),
	}, opts...)...)
}

func (p *mtlsPDP) revoke(svid *x509svid.SVID) {
	p.set.Add(revocation.Entry{Serial: new(big.Int).Set(svid.Leaf().SerialNumber), RevokedAt: time.Now(), Reason: 1})
}

var evaluationBody = obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1")}

// keptAlive is one HTTP/1.1 keep-alive connection to the PDP.
type keptAlive struct {
	conn *tls.Conn
	rd   *bufio.Reader
	host string
}

func dialKeptAlive(t *testing.T, addr string, cfg *tls.Config) (*keptAlive, error) {
	t.Helper()
	cfg = cfg.Clone()
	cfg.NextProtos = []string{"http/1.1"}
	d := tls.Dialer{Config: cfg}
	c, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = c.Close() })
	return &keptAlive{conn: c.(*tls.Conn), rd: bufio.NewReader(c), host: addr}, nil
}

// evaluate sends one AuthZEN evaluation on the connection and checks the
// decision is true. In TLS 1.3 a refused client certificate shows up here.
func (k *keptAlive) evaluate() error {
	data, err := json.Marshal(evaluationBody)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, "https://"+k.host+server.PathEvaluation, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	_ = k.conn.SetDeadline(time.Now().Add(revocationTimeout))
	defer func() { _ = k.conn.SetDeadline(time.Time{}) }()
	if err := req.Write(k.conn); err != nil {
		return err
	}
	resp, err := http.ReadResponse(k.rd, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"decision":true`) {
		return errors.New("unexpected answer: " + resp.Status + " " + string(body))
	}
	return nil
}

// waitClosed waits until the server closes the connection; a read that
// times out means it stayed open.
func (k *keptAlive) waitClosed(timeout time.Duration) error {
	_ = k.conn.SetReadDeadline(time.Now().Add(timeout))
	_, err := k.rd.ReadByte()
	var ne net.Error
	switch {
	case err == nil:
		return errors.New("the connection still delivers data")
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("the connection is still open")
	}
	return nil
}

func TestRevokedClientHTTP(t *testing.T) {
	p := startMTLS(t, mtlstest.NewCA(t))
	clientLogs := &mtlstest.Logs{}
	svid := p.ca.SVID(t, "orders", 0)
	cfg := clientTLS(p.ca.SourceOf(t, svid), clientLogs)
	addr := strings.TrimPrefix(p.base, "https://")

	conn, err := dialKeptAlive(t, addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.evaluate(); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	p.revoke(svid)
	if err := conn.waitClosed(revocationTimeout); err != nil {
		t.Fatalf("open connection of the revoked client: %v", err)
	}
	p.logs.WaitFor(t, "tls: closing connection of revoked peer", map[string]string{"serial": mtlstest.Serial(svid)})

	// A new connection with the revoked certificate is refused.
	again, err := dialKeptAlive(t, addr, cfg)
	if err == nil {
		err = again.evaluate()
	}
	if err == nil {
		t.Fatal("a new connection with the revoked certificate was served")
	}
	if _, ok := tlsconfig.RemoteRejection(err); !ok {
		t.Fatalf("revoked client's error = %v, want the server's TLS alert", err)
	}
	p.logs.WaitFor(t, "tls: refused peer certificate", map[string]string{"reason": "revoked", "serial": mtlstest.Serial(svid)})

	// Other clients are unaffected.
	other, err := dialKeptAlive(t, addr, clientTLS(p.ca.Source(t, "orders"), clientLogs))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.evaluate(); err != nil {
		t.Fatalf("another client after the revocation: %v", err)
	}
}

func TestRevokedClientGRPC(t *testing.T) {
	p := startMTLS(t, mtlstest.NewCA(t))
	svid := p.ca.SVID(t, "orders", 0)
	cc := dialMTLS(t, p.grpcAddr, clientTLS(p.ca.SourceOf(t, svid), &mtlstest.Logs{}))
	client := verdictv1.NewDecisionServiceClient(cc)
	if err := grpcEvaluate(t.Context(), client); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	if s := cc.GetState(); s != connectivity.Ready {
		t.Fatalf("connection state %v after a call, want READY", s)
	}
	p.revoke(svid)
	ctx, cancel := context.WithTimeout(t.Context(), revocationTimeout)
	defer cancel()
	if !cc.WaitForStateChange(ctx, connectivity.Ready) {
		t.Fatal("the revoked client's gRPC connection stayed open")
	}
	p.logs.WaitFor(t, "tls: closing connection of revoked peer", map[string]string{"serial": mtlstest.Serial(svid)})
	if err := grpcEvaluate(t.Context(), client); err == nil {
		t.Fatal("the revoked client was served again")
	}
	p.logs.WaitFor(t, "tls: refused peer certificate", map[string]string{"reason": "revoked", "serial": mtlstest.Serial(svid)})

	fresh := verdictv1.NewDecisionServiceClient(dialMTLS(t, p.grpcAddr, clientTLS(p.ca.Source(t, "orders"), &mtlstest.Logs{})))
	if err := grpcEvaluate(t.Context(), fresh); err != nil {
		t.Fatalf("another client after the revocation: %v", err)
	}
}

func dialMTLS(t testing.TB, addr string, cfg *tls.Config) *grpc.ClientConn {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

func grpcEvaluate(ctx context.Context, c verdictv1.DecisionServiceClient) error {
	ctx, cancel := context.WithTimeout(ctx, revocationTimeout)
	defer cancel()
	res, err := c.Evaluate(ctx, &verdictv1.EvaluateRequest{Subject: &verdictv1.Subject{Type: "user", Id: "alice"},
		Action: &verdictv1.Action{Name: "read"}, Resource: &verdictv1.Resource{Type: "record", Id: "record-1"}})
	if err != nil {
		return err
	}
	if !res.GetResult().GetAllowed() {
		return errors.New("not allowed")
	}
	return nil
}
