package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"

	"github.com/verdict-authz/verdict/integration/mtlstest"
	papserver "github.com/verdict-authz/verdict/pap/server"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509svid"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// Generous: revocation normally takes effect in milliseconds.
const revocationTimeout = 10 * time.Second

var papID = mtlstest.ID("pap")

// mtlsPAP is a PAP served over mutual TLS with certificates of a test CA,
// cutting off the serials of its revocation set.
type mtlsPAP struct {
	ca       *mtlstest.CA
	src      *tlsconfig.Source
	set      *revocation.Set
	logs     *mtlstest.Logs
	httpAddr string
	grpcAddr string
}

// startMTLSPAP serves a PAP with papserver.WithRevocation(set) only: the
// TLS configuration does not check revocation itself, so the tests prove
// the option refuses handshakes as well as closing connections.
func startMTLSPAP(t *testing.T, authority *mtlstest.CA, opts ...tlsconfig.Option) *mtlsPAP {
	t.Helper()
	p := &mtlsPAP{ca: authority, src: authority.Source(t, "pap"), set: revocation.NewSet(), logs: &mtlstest.Logs{}}
	tc := tlsconfig.ServerConfig(p.src, append([]tlsconfig.Option{tlsconfig.WithLogger(p.logs.Logger())}, opts...)...)
	srv := newBareServer(t, papserver.WithTLS(tc), papserver.WithRevocation(p.set), papserver.WithLogger(p.logs.Logger()))
	var lc net.ListenConfig
	httpLn, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grpcLn, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, httpLn, grpcLn) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	p.httpAddr, p.grpcAddr = httpLn.Addr().String(), grpcLn.Addr().String()
	// One revision of "orders", so that the tests' List calls succeed.
	_, admin := dialPAP(t, p.grpcAddr, papClientTLS(authority.Source(t, "author"), &mtlstest.Logs{}, papID))
	pctx, cancel := context.WithTimeout(t.Context(), revocationTimeout)
	defer cancel()
	if _, err := admin.Push(pctx, &verdictv1.PushRequest{Service: "orders", Sources: sources("p.yaml", string(policy("p", "Permit")))}); err != nil {
		t.Fatalf("push: %v", err)
	}
	return p
}

func (p *mtlsPAP) revoke(svid *x509svid.SVID) {
	p.set.Add(revocation.Entry{Serial: new(big.Int).Set(svid.Leaf().SerialNumber), RevokedAt: time.Now(), Reason: 1})
}

func papClientTLS(src *tlsconfig.Source, logs *mtlstest.Logs, expected spiffeid.ID) *tls.Config {
	return tlsconfig.ClientConfig(src, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(expected)), tlsconfig.WithLogger(logs.Logger()))
}

func dialPAP(t testing.TB, addr string, cfg *tls.Config) (*grpc.ClientConn, verdictv1.PolicyAdminServiceClient) {
	t.Helper()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc, verdictv1.NewPolicyAdminServiceClient(cc)
}

func grpcList(ctx context.Context, c verdictv1.PolicyAdminServiceClient) error {
	ctx, cancel := context.WithTimeout(ctx, revocationTimeout)
	defer cancel()
	_, err := c.List(ctx, &verdictv1.ListRequest{Service: "orders"})
	return err
}

func connectList(ctx context.Context, c verdictv1connect.PolicyAdminServiceClient) error {
	ctx, cancel := context.WithTimeout(ctx, revocationTimeout)
	defer cancel()
	_, err := c.List(ctx, connect.NewRequest(&verdictv1.ListRequest{Service: "orders"}))
	return err
}

// listOnConn makes a Connect JSON List call over one HTTP/1.1 keep-alive
// connection.
func listOnConn(conn *tls.Conn, rd *bufio.Reader) error {
	req, err := http.NewRequest(http.MethodPost, "https://pap"+verdictv1connect.PolicyAdminServiceListProcedure, strings.NewReader(`{"service":"orders"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	_ = conn.SetDeadline(time.Now().Add(revocationTimeout))
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
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("List: %s %s", resp.Status, body)
	}
	return nil
}

func TestRevokedClientConnect(t *testing.T) {
	p := startMTLSPAP(t, mtlstest.NewCA(t))
	svid := p.ca.SVID(t, "author", 0)
	cfg := papClientTLS(p.ca.SourceOf(t, svid), &mtlstest.Logs{}, papID)
	cfg.NextProtos = []string{"http/1.1"}
	dial := func() (*tls.Conn, *bufio.Reader, error) {
		d := tls.Dialer{Config: cfg}
		c, err := d.DialContext(t.Context(), "tcp", p.httpAddr)
		if err != nil {
			return nil, nil, err
		}
		t.Cleanup(func() { _ = c.Close() })
		return c.(*tls.Conn), bufio.NewReader(c), nil
	}
	conn, rd, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	if err := listOnConn(conn, rd); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	p.revoke(svid)
	_ = conn.SetReadDeadline(time.Now().Add(revocationTimeout))
	_, err = rd.ReadByte()
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("the revoked author's open connection was not closed: %v", err)
	}
	p.logs.WaitFor(t, "tls: closing connection of revoked peer", map[string]string{"serial": mtlstest.Serial(svid)})

	again, rd2, err := dial()
	if err == nil {
		err = listOnConn(again, rd2)
	}
	if _, ok := tlsconfig.RemoteRejection(err); !ok {
		t.Fatalf("revoked author reconnecting: err = %v, want the PAP's TLS alert", err)
	}
	p.logs.WaitFor(t, "tls: refused peer certificate", map[string]string{"reason": "revoked", "serial": mtlstest.Serial(svid)})
}

func TestRevokedClientGRPC(t *testing.T) {
	p := startMTLSPAP(t, mtlstest.NewCA(t))
	svid := p.ca.SVID(t, "author", 0)
	cc, client := dialPAP(t, p.grpcAddr, papClientTLS(p.ca.SourceOf(t, svid), &mtlstest.Logs{}, papID))
	if err := grpcList(t.Context(), client); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	p.revoke(svid)
	ctx, cancel := context.WithTimeout(t.Context(), revocationTimeout)
	defer cancel()
	if !cc.WaitForStateChange(ctx, connectivity.Ready) {
		t.Fatal("the revoked author's gRPC connection stayed open")
	}
	if err := grpcList(t.Context(), client); err == nil {
		t.Fatal("the revoked author was served again")
	}
	p.logs.WaitFor(t, "tls: refused peer certificate", map[string]string{"reason": "revoked", "serial": mtlstest.Serial(svid)})
	_, fresh := dialPAP(t, p.grpcAddr, papClientTLS(p.ca.Source(t, "author"), &mtlstest.Logs{}, papID))
	if err := grpcList(t.Context(), fresh); err != nil {
		t.Fatalf("another author after the revocation: %v", err)
	}
}

// TestHandshakeFailuresLogged: see the PDP's test of the same name; here
// for the PAP's Connect and gRPC listeners.
func TestHandshakeFailuresLogged(t *testing.T) {
	authority, other := mtlstest.NewCA(t), mtlstest.NewCA(t)
	p := startMTLSPAP(t, authority, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(mtlstest.ID("author"))))
	revoked := authority.SVID(t, "author", 0)
	p.revoke(revoked)
	withBundle := func(t *testing.T, svid *x509svid.SVID, of *mtlstest.CA) *tlsconfig.Source {
		src, err := tlsconfig.NewSource(svid, of.Bundle())
		if err != nil {
			t.Fatal(err)
		}
		return src
	}
	cases := []struct {
		name         string
		src          func(t *testing.T) *tlsconfig.Source
		expected     spiffeid.ID
		serverReason string // the PAP refuses the client
		clientReason error  // the client refuses the PAP
	}{
		{name: "untrusted client", serverReason: "untrusted", src: func(t *testing.T) *tlsconfig.Source { return withBundle(t, other.SVID(t, "author", 0), authority) }},
		{name: "expired client", serverReason: "expired", src: func(t *testing.T) *tlsconfig.Source { return authority.SourceOf(t, authority.ExpiredSVID(t, "author")) }},
		{name: "wrong client identity", serverReason: "wrong_identity", src: func(t *testing.T) *tlsconfig.Source { return authority.Source(t, "intruder") }},
		{name: "revoked client", serverReason: "revoked", src: func(t *testing.T) *tlsconfig.Source { return authority.SourceOf(t, revoked) }},
		{name: "untrusted server", clientReason: tlsconfig.ErrUntrusted, src: func(t *testing.T) *tlsconfig.Source { return withBundle(t, authority.SVID(t, "author", 0), other) }},
		{name: "wrong server identity", clientReason: tlsconfig.ErrWrongIdentity, expected: mtlstest.ID("pdp"),
			src: func(t *testing.T) *tlsconfig.Source { return authority.Source(t, "author") }},
	}
	for _, tc := range cases {
		for _, transport := range []string{"connect", "grpc"} {
			t.Run(tc.name+"/"+transport, func(t *testing.T) {
				src := tc.src(t)
				expected := papID
				if !tc.expected.IsZero() {
					expected = tc.expected
				}
				clientLogs := &mtlstest.Logs{}
				refusedBefore := len(p.logs.Find("tls: refused peer certificate", nil))
				rejectedBefore := len(p.logs.Find("tls: peer refused our certificate", nil))
				opts := []tlsconfig.Option{tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(expected)), tlsconfig.WithLogger(clientLogs.Logger())}
				var err error
				if transport == "connect" {
					hc := tlsconfig.HTTPClient(src, opts...)
					defer hc.CloseIdleConnections()
					err = connectList(t.Context(), verdictv1connect.NewPolicyAdminServiceClient(hc, "https://"+p.httpAddr))
				} else {
					_, c := dialPAP(t, p.grpcAddr, tlsconfig.ClientConfig(src, opts...))
					err = grpcList(t.Context(), c)
				}
				if err == nil {
					t.Fatal("the handshake succeeded")
				}
				if tc.serverReason != "" {
					p.logs.WaitForNew(t, refusedBefore, "tls: refused peer certificate", map[string]string{
						"side": "server", "reason": tc.serverReason, "serial": mtlstest.Serial(src.SVID()), "peer": "127.0.0.1:"})
					if transport == "connect" {
						clientLogs.WaitFor(t, "tls: peer refused our certificate", map[string]string{"side": "client", "alert": "bad certificate"})
					} else if !strings.Contains(err.Error(), "bad certificate") {
						t.Errorf("client error %q does not carry the PAP's alert", err)
					}
					return
				}
				if !strings.Contains(err.Error(), tc.clientReason.Error()) {
					t.Errorf("client error %q does not name the reason %q", err, tc.clientReason)
				}
				clientLogs.WaitFor(t, "tls: refused peer certificate", map[string]string{"side": "client", "peer_id": papID.String()})
				p.logs.WaitForNew(t, rejectedBefore, "tls: peer refused our certificate", map[string]string{"side": "server", "alert": "bad certificate"})
			})
		}
	}
}

// TestRotationUnderLoad rotates the PAP's server certificate and its
// clients' certificate 10 times (VERDICT_LONG=1: 200) while authors call
// it over Connect and gRPC, on kept-alive and new connections: no call may
// fail.
func TestRotationUnderLoad(t *testing.T) {
	rotations, every := 10, 150*time.Millisecond
	if os.Getenv("VERDICT_LONG") == "1" {
		rotations, every = 200, 500*time.Millisecond
	}
	authority := mtlstest.NewCA(t)
	p := startMTLSPAP(t, authority)
	clientSrc := authority.SourceOf(t, authority.SVID(t, "author", time.Minute))
	clientCfg := papClientTLS(clientSrc, &mtlstest.Logs{}, papID)

	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var errs []string
	var wg sync.WaitGroup
	worker := func(what string, call func(context.Context) error) {
		wg.Go(func() {
			for ctx.Err() == nil {
				switch err := call(ctx); {
				case err == nil:
					ok.Add(1)
				case ctx.Err() == nil:
					failed.Add(1)
					mu.Lock()
					errs = append(errs, what+": "+err.Error())
					mu.Unlock()
				}
			}
		})
	}
	kept := tlsconfig.HTTPClient(clientSrc, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(papID)), tlsconfig.WithLogger(p.logs.Logger()))
	defer kept.CloseIdleConnections()
	fresh := &http.Client{Transport: &http.Transport{TLSClientConfig: clientCfg.Clone(), DisableKeepAlives: true, ForceAttemptHTTP2: true}}
	_, keptGRPC := dialPAP(t, p.grpcAddr, clientCfg.Clone())
	grpcCreds := credentials.NewTLS(clientCfg.Clone())
	for range 2 {
		worker("connect kept-alive", func(ctx context.Context) error {
			return connectList(ctx, verdictv1connect.NewPolicyAdminServiceClient(kept, "https://"+p.httpAddr))
		})
		worker("connect new connection", func(ctx context.Context) error {
			return connectList(ctx, verdictv1connect.NewPolicyAdminServiceClient(fresh, "https://"+p.httpAddr))
		})
		worker("grpc kept-alive", func(ctx context.Context) error { return grpcList(ctx, keptGRPC) })
		worker("grpc new connection", func(ctx context.Context) error {
			cc, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(grpcCreds))
			if err != nil {
				return err
			}
			defer cc.Close()
			return grpcList(ctx, verdictv1.NewPolicyAdminServiceClient(cc))
		})
	}
	var last string
	for range rotations {
		time.Sleep(every)
		server := authority.SVID(t, "pap", time.Minute)
		p.src.Set(server, nil)
		clientSrc.Set(authority.SVID(t, "author", time.Minute), nil)
		last = mtlstest.Serial(server)
	}
	time.Sleep(every)
	stop()
	wg.Wait()
	t.Logf("%d rotations, %d calls, %d failed", rotations, ok.Load(), failed.Load())
	if failed.Load() > 0 {
		t.Fatalf("%d calls failed during rotations; first errors: %v", failed.Load(), errs[:min(len(errs), 10)])
	}
	if ok.Load() < int64(rotations) {
		t.Fatalf("only %d calls made: the load generator did not run", ok.Load())
	}
	conn, err := tls.Dial("tcp", p.httpAddr, clientCfg.Clone())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := fmt.Sprintf("%x", conn.ConnectionState().PeerCertificates[0].SerialNumber); got != last {
		t.Fatalf("a new connection sees server serial %s, want the last rotated %s", got, last)
	}
}
