package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// writePKI writes ca.pem, server.pem/server-key.pem (127.0.0.1) and
// client.pem/client-key.pem into dir and returns the client's TLS
// configuration.
func writePKI(t *testing.T, dir string) *tls.Config {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	writePEM := func(name, typ string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pdp test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	writePEM("ca.pem", "CERTIFICATE", caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage) tls.Certificate {
		key := newKey()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		kder, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		writePEM(name+".pem", "CERTIFICATE", der)
		writePEM(name+"-key.pem", "PRIVATE KEY", kder)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	issue("server", 2, x509.ExtKeyUsageServerAuth)
	client := issue("client", 3, x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{client}}
}

// TestPDPServeMutualTLS serves the Todo policy with tls: and client_ca:
// (relative paths) and checks that only clients with a certificate from
// that CA are served, over HTTPS and gRPC.
func TestPDPServeMutualTLS(t *testing.T) {
	dir := t.TempDir()
	clientTLS := writePKI(t, dir)
	abs, err := filepath.Abs("../../policies/authzen-todo")
	if err != nil {
		t.Fatal(err)
	}
	cfg := `listen: {http: 127.0.0.1:0, grpc: 127.0.0.1:0}
tls: {cert: server.pem, key: server-key.pem, client_ca: ca.pem}
policies: [` + filepath.Join(abs, "todo.xml") + `]
pips:
  - {type: json-file, file: ` + filepath.Join(abs, "users.json") + `, key: {category: subject, attribute: id}}
`
	if err := os.WriteFile(filepath.Join(dir, "pdp.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := serveCommand(t, "--config", filepath.Join(dir, "pdp.yaml"))
	body := `{"subject":{"type":"user","id":"CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},"action":{"name":"can_delete_todo"},"resource":{"type":"todo","id":"1","properties":{"ownerID":"x@y"}}}`

	withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS, ForceAttemptHTTP2: true}}
	defer withCert.CloseIdleConnections()
	resp, err := withCert.Post("https://"+s.httpAddr+"/access/v1/evaluation", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("HTTPS with a client certificate: %s %s", resp.Status, resp.Proto)
	}
	noCert := clientTLS.Clone()
	noCert.Certificates = nil
	if _, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: noCert}}).Post("https://"+s.httpAddr+"/access/v1/evaluation", "application/json", strings.NewReader(body)); err == nil {
		t.Fatal("served a client without a certificate")
	}
	if resp, err := http.Post("http://"+s.httpAddr+"/access/v1/evaluation", "application/json", strings.NewReader(body)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("served plaintext HTTP on a TLS listener")
		}
	}

	cc, err := grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(credentials.NewTLS(clientTLS)))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	res, err := verdictv1.NewDecisionServiceClient(cc).Evaluate(context.Background(), &verdictv1.EvaluateRequest{
		Subject:  &verdictv1.Subject{Type: "user", Id: "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
		Action:   &verdictv1.Action{Name: "can_read_todos"},
		Resource: &verdictv1.Resource{Type: "todo", Id: "1"},
	})
	if err != nil || !res.GetResult().GetAllowed() {
		t.Fatalf("gRPC over mutual TLS: %v %v", res, err)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("exit %d: %s", code, s.stderr.String())
	}
}
