package sdk_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/verdict-authz/verdict/integration/mtlstest"
	"github.com/verdict-authz/verdict/integration/natstest"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/server"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509svid"
	"github.com/verdict-authz/verdict/sdk"
)

// Generous: revocation normally takes effect in milliseconds.
const revocationTimeout = 10 * time.Second

func uniqueRevocationSubject() string {
	var r [6]byte
	_, _ = rand.Read(r[:])
	return revocation.Subject + ".test." + hex.EncodeToString(r[:])
}

func revoke(set *revocation.Set, svid *x509svid.SVID) {
	set.Add(revocation.Entry{Serial: new(big.Int).Set(svid.Leaf().SerialNumber), RevokedAt: time.Now(), Reason: 1})
}

// getOn sends GET path on one HTTP/1.1 keep-alive connection and wants 200.
func getOn(conn *tls.Conn, rd *bufio.Reader, path string) error {
	req, err := http.NewRequest(http.MethodGet, "https://service"+path, nil)
	if err != nil {
		return err
	}
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
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// TestMutualTLSRevokesPEPClient: a service protected by the SDK's HTTP
// middleware, serving through MutualTLS and following the CA's revocation
// events on NATS, closes the open connection of a client whose certificate
// is revoked and refuses its new ones.
func TestMutualTLSRevokesPEPClient(t *testing.T) {
	authority := mtlstest.NewCA(t)
	logs := &mtlstest.Logs{}
	mt := sdk.NewMutualTLS(authority.Source(t, "todo"), sdk.WithRevocation(revocation.NewSet()), sdk.WithTLSLogger(logs.Logger()))
	t.Cleanup(func() { _ = mt.Close() })
	url, subject := natstest.URL(t), uniqueRevocationSubject()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	sub, err := mt.SubscribeRevocations(t.Context(), nc, revocation.WithSubject(subject))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })

	p := mustNew(t, sdk.WithPolicy(routesPolicy(t)), sdk.WithLogger(quiet))
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: routesMux(sdk.Middleware(p, sdk.WithLogger(quiet))), TLSConfig: mt.ServerConfig(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(mt.Listener(ln)) }()
	t.Cleanup(func() { _ = hs.Close() })

	client := authority.SVID(t, "web", 0)
	cfg := tlsconfig.ClientConfig(authority.SourceOf(t, client), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(mtlstest.ID("todo"))),
		tlsconfig.WithLogger(quiet))
	cfg.NextProtos = []string{"http/1.1"}
	dial := func() (*tls.Conn, *bufio.Reader, error) {
		d := tls.Dialer{Config: cfg}
		c, err := d.DialContext(t.Context(), "tcp", ln.Addr().String())
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
	if err := getOn(conn, rd, "/files/public/report.pdf"); err != nil {
		t.Fatalf("before revocation: %v", err)
	}

	pubConn, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pubConn.Close)
	pub := revocation.NewPublisher(pubConn, revocation.WithSubject(subject), revocation.WithNATSLogger(quiet))
	if err := pub.Publish(t.Context(), revocation.Entry{Serial: client.Leaf().SerialNumber, RevokedAt: time.Now(), Reason: 1}); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(revocationTimeout))
	_, err = rd.ReadByte()
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("the revoked client's open connection was not closed: %v", err)
	}
	logs.WaitFor(t, "tls: closing connection of revoked peer", map[string]string{"serial": mtlstest.Serial(client)})
	again, rd2, err := dial()
	if err == nil {
		err = getOn(again, rd2, "/files/public/report.pdf")
	}
	if _, ok := tlsconfig.RemoteRejection(err); !ok {
		t.Fatalf("revoked client reconnecting: err = %v, want the service's TLS alert", err)
	}
	logs.WaitFor(t, "tls: refused peer certificate", map[string]string{"side": "server", "reason": "revoked", "serial": mtlstest.Serial(client)})
}

// TestMutualTLSRemoteDropsRevokedPDP: the SDK's remote-PDP client closes
// its connection to a PDP whose certificate gets revoked and refuses to
// reconnect to it.
func TestMutualTLSRemoteDropsRevokedPDP(t *testing.T) {
	authority := mtlstest.NewCA(t)
	pdpSVID := authority.SVID(t, "pdp", 0)
	engine := pdp.New(pdp.WithLogger(quiet))
	if err := engine.Activate(t.Context(), routesPolicy(t)); err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(engine, server.WithTLS(tlsconfig.ServerConfig(authority.SourceOf(t, pdpSVID), tlsconfig.WithLogger(quiet))),
		server.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.WithoutCancel(t.Context()))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	t.Cleanup(func() { stop(); <-done })

	set, logs := revocation.NewSet(), &mtlstest.Logs{}
	mt := sdk.NewMutualTLS(authority.Source(t, "web"), sdk.WithRevocation(set), sdk.WithTLSLogger(logs.Logger()))
	t.Cleanup(func() { _ = mt.Close() })
	remote := newRemote(t, "https://"+ln.Addr().String(), nil, sdk.WithMutualTLS(mt, mtlstest.ID("pdp")))
	req, err := sdk.ParseAuthZENRequest([]byte(`{"subject":{"type":"user","id":"alice"},"action":{"name":"GET"},
		"resource":{"type":"route","id":"/files/public/{path...}","properties":{"path":"/files/public/a"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Decide(t.Context(), req); err != nil {
		t.Fatalf("before revocation: %v", err)
	}
	revoke(set, pdpSVID)
	logs.WaitFor(t, "tls: closing connection of revoked peer", map[string]string{"serial": mtlstest.Serial(pdpSVID)})
	d, err := remote.Decide(t.Context(), req)
	if !errors.Is(err, tlsconfig.ErrRevoked) {
		t.Fatalf("deciding through the revoked PDP: err = %v, want ErrRevoked", err)
	}
	if d.Effect == pdp.EffectPermit {
		t.Fatal("a failed remote decision permitted")
	}
	logs.WaitFor(t, "tls: refused peer certificate", map[string]string{"side": "client", "reason": "revoked", "serial": mtlstest.Serial(pdpSVID)})
}

// TestMutualTLSNATSDropsRevokedServer: the service's NATS connection
// (bundles, decision logs) is dropped when the NATS server's certificate
// is revoked — the event arriving on that very connection — and
// reconnections to that server are refused.
func TestMutualTLSNATSDropsRevokedServer(t *testing.T) {
	authority := mtlstest.NewCA(t)
	natsSVID := authority.SVID(t, "nats", 0)
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		TLSConfig: tlsconfig.ServerConfig(authority.SourceOf(t, natsSVID), tlsconfig.WithLogger(quiet)), TLSTimeout: 5})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	url, subject := ns.ClientURL(), uniqueRevocationSubject()

	logs := &mtlstest.Logs{}
	mt := sdk.NewMutualTLS(authority.Source(t, "web"), sdk.WithRevocation(revocation.NewSet()), sdk.WithTLSLogger(logs.Logger()))
	t.Cleanup(func() { _ = mt.Close() })
	nc, err := nats.Connect(url, append(mt.NATSOptions(mtlstest.ID("nats")), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	t.Cleanup(mt.WatchNATS(nc))
	sub, err := mt.SubscribeRevocations(t.Context(), nc, revocation.WithSubject(subject))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })

	// The CA publishes over its own connection (which does not check
	// revocation).
	caSide := sdk.NewMutualTLS(authority.Source(t, "ca"), sdk.WithTLSLogger(quiet))
	pubConn, err := nats.Connect(url, caSide.NATSOptions(mtlstest.ID("nats"))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pubConn.Close)
	pub := revocation.NewPublisher(pubConn, revocation.WithSubject(subject), revocation.WithNATSLogger(quiet))
	if err := pub.Publish(t.Context(), revocation.Entry{Serial: natsSVID.Leaf().SerialNumber, RevokedAt: time.Now(), Reason: 1}); err != nil {
		t.Fatal(err)
	}
	logs.WaitFor(t, "tls: closing connection of revoked peer", map[string]string{"serial": mtlstest.Serial(natsSVID)})
	logs.WaitFor(t, "tls: refused peer certificate", map[string]string{"side": "client", "reason": "revoked", "serial": mtlstest.Serial(natsSVID)})
	if nc.IsConnected() {
		t.Fatal("still connected to the NATS server whose certificate is revoked")
	}
}

// TestMutualTLSRevokesGRPCPEPClient: a gRPC service behind the SDK's
// interceptor, serving with MutualTLS credentials, closes the connection
// of a client whose certificate is revoked and refuses its new ones.
func TestMutualTLSRevokesGRPCPEPClient(t *testing.T) {
	authority := mtlstest.NewCA(t)
	set, logs := revocation.NewSet(), &mtlstest.Logs{}
	mt := sdk.NewMutualTLS(authority.Source(t, "todo"), sdk.WithRevocation(set), sdk.WithTLSLogger(logs.Logger()))
	t.Cleanup(func() { _ = mt.Close() })
	p := mustNew(t, sdk.WithPolicy(routesPolicy(t)), sdk.WithLogger(quiet))
	var lc net.ListenConfig
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(grpc.Creds(mt.GRPCServerCredentials()), grpc.UnaryInterceptor(sdk.UnaryServerInterceptor(p, sdk.WithLogger(quiet))))
	healthpb.RegisterHealthServer(s, health.NewServer())
	go func() { _ = s.Serve(mt.GRPCListener(ln)) }()
	t.Cleanup(s.Stop)

	client := authority.SVID(t, "web", 0)
	cfg := tlsconfig.ClientConfig(authority.SourceOf(t, client), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(mtlstest.ID("todo"))), tlsconfig.WithLogger(quiet))
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	check := func() error {
		ctx, cancel := context.WithTimeout(t.Context(), revocationTimeout)
		defer cancel()
		_, err := healthpb.NewHealthClient(cc).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	// The policy opens Check to another workload: the PEP's refusal proves
	// the call went through the TLS connection and the interceptor.
	if err := check(); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("before revocation: %v, want the PEP's PermissionDenied", err)
	}
	revoke(set, client)
	ctx, cancel := context.WithTimeout(t.Context(), revocationTimeout)
	defer cancel()
	if !cc.WaitForStateChange(ctx, connectivity.Ready) {
		t.Fatal("the revoked client's gRPC connection stayed open")
	}
	logs.WaitFor(t, "tls: closing connection of revoked peer", map[string]string{"serial": mtlstest.Serial(client)})
	if err := check(); status.Code(err) != codes.Unavailable {
		t.Fatalf("revoked client calling again: %v, want Unavailable (handshake refused)", err)
	}
	logs.WaitFor(t, "tls: refused peer certificate", map[string]string{"side": "server", "reason": "revoked", "serial": mtlstest.Serial(client)})
}
