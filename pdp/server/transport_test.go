package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/server"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate.
type testPKI struct {
	pool   *x509.CertPool
	server tls.Certificate
	client tls.Certificate
}

func newTestPKI(t testing.TB) testPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(serial int64, usage x509.ExtKeyUsage) tls.Certificate {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "test"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return testPKI{pool: pool, server: issue(2, x509.ExtKeyUsageServerAuth), client: issue(3, x509.ExtKeyUsageClientAuth)}
}

func TestMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	set := testPIPs(t)
	// ClientAuth is left unset: naming client CAs is enough to require
	// client certificates.
	r := startEngine(t, testEngine(t, set), server.WithTLS(&tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool}))
	base := "https://" + r.base[len("http://"):]
	body := obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1")}

	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}}}}
	withoutCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool}}}
	defer withCert.CloseIdleConnections()

	got := do(t, withCert, newPost(t, base+server.PathEvaluation, body))
	if got.status != http.StatusOK || got.body["decision"] != true {
		t.Fatalf("with a client certificate: %d %s", got.status, got.raw)
	}
	metaReq, _ := http.NewRequest(http.MethodGet, base+server.PathMetadata, nil)
	if got := do(t, withCert, metaReq); got.body["policy_decision_point"] != base {
		t.Fatalf("metadata over TLS advertises %v", got.body["policy_decision_point"])
	}
	if _, err := withoutCert.Post(base+server.PathEvaluation, "application/json", nil); err == nil {
		t.Fatal("a client without a certificate was served")
	}

	dialTLS := func(certs ...tls.Certificate) verdictv1.DecisionServiceClient {
		cc, err := grpc.NewClient(r.grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pki.pool, Certificates: certs})))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cc.Close() })
		return verdictv1.NewDecisionServiceClient(cc)
	}
	req := &verdictv1.EvaluateRequest{Subject: &verdictv1.Subject{Type: "user", Id: "alice"}, Action: &verdictv1.Action{Name: "read"}, Resource: &verdictv1.Resource{Type: "record", Id: "record-1"}}
	if res, err := dialTLS(pki.client).Evaluate(context.Background(), req); err != nil || !res.GetResult().GetAllowed() {
		t.Fatalf("gRPC with a client certificate: %v %v", res, err)
	}
	if _, err := dialTLS().Evaluate(context.Background(), req); err == nil {
		t.Fatal("gRPC without a client certificate was served")
	}
}

// fakeAddrListener pretends to listen on addr.
type fakeAddrListener struct {
	net.Listener
	addr net.Addr
}

func (l fakeAddrListener) Addr() net.Addr { return l.addr }

func TestPlaintextOnlyOnLoopback(t *testing.T) {
	srv, err := server.New(pdp.New(), server.WithInsecurePlaintext())
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	defer ln.Close()
	public := fakeAddrListener{Listener: ln, addr: &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 8181}}
	if err := srv.Serve(context.Background(), public, nil); !errors.Is(err, server.ErrPlaintextNotLoopback) {
		t.Fatalf("Serve on 10.1.2.3 in plaintext: %v", err)
	}
	for addr, ok := range map[string]bool{
		"127.0.0.1:8181": true, "[::1]:9191": true, "localhost:80": true, "127.5.5.5:1": true,
		":8181": false, "0.0.0.0:8181": false, "10.0.0.1:80": false, "[::]:80": false, "example.com:80": false, "nonsense": false,
	} {
		if err := server.CheckLoopback(addr); (err == nil) != ok {
			t.Errorf("CheckLoopback(%q) = %v", addr, err)
		}
	}
}

func TestServeLifecycle(t *testing.T) {
	srv, err := server.New(testEngine(t, testPIPs(t)), server.WithInsecurePlaintext())
	if err != nil {
		t.Fatal(err)
	}
	hl, gl := listen(t), listen(t)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), hl, gl) }()
	base := "http://" + hl.Addr().String()
	waitUp(t, base)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after Close")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("still serving after Close")
	}
	if err := srv.Serve(context.Background(), listen(t), nil); !errors.Is(err, server.ErrServing) {
		t.Fatalf("Serve after Close: %v", err)
	}
}

func waitUp(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("server at %s never came up: %v", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
