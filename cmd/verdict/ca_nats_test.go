package main

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// caIssueFiles issues a certificate from the CA in dir (while no `ca serve`
// holds it) and writes it to files named after the service.
func caIssueFiles(t *testing.T, c *ca.CA, out, service string, p ca.Profile, ips ...net.IP) (cert, key string, serial *big.Int) {
	t.Helper()
	k, err := keyfile.Generate(keyfile.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := c.Issue(t.Context(), ca.IssueRequest{PublicKey: k.Public(), Service: service, Profile: p, IPAddresses: ips})
	if err != nil {
		t.Fatal(err)
	}
	svid, err := x509svid.New(issued.Chain(), k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(out, service+".pem"), filepath.Join(out, service+"-key.pem")
	if err := svid.WriteFiles(cert, key); err != nil {
		t.Fatal(err)
	}
	return cert, key, issued.Leaf.SerialNumber
}

// TestCAServeRevocationOverMTLSNATS runs the revocation path over a NATS
// server that requires client certificates from the same CA, as the
// platform's NATS does.
func TestCAServeRevocationOverMTLSNATS(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	if code, _, errOut := runCLI(t, "", "ca", "init", "--dir", dir); code != 0 {
		t.Fatalf("init exit %d: %s", code, errOut)
	}
	quietLog := slog.New(slog.DiscardHandler)
	c, err := ca.New(t.Context(), dir, ca.WithTrustDomain(caDefaultTD), ca.WithLogger(quietLog), ca.WithAuditSink(ca.SlogAudit(quietLog)))
	if err != nil {
		t.Fatal(err)
	}
	natsCert, natsKey, _ := caIssueFiles(t, c, out, "nats", ca.ProfileServer, net.IPv4(127, 0, 0, 1))
	pdpCert, pdpKey, _ := caIssueFiles(t, c, out, "pdp", ca.ProfilePeer)
	_, _, victim := caIssueFiles(t, c, out, "web", ca.ProfilePeer)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, caRootFile)

	serverCert, err := tls.LoadX509KeyPair(natsCert, natsKey)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := x509svid.ParseCertificates(caReadFile(t, root))
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	tlsCfg.ClientCAs = caCertPool(bundle)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
		TLS: true, TLSVerify: true, TLSConfig: tlsCfg, TLSTimeout: 5})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	url := strings.Replace(srv.ClientURL(), "nats://", "tls://", 1)

	if nc, err := nats.Connect(url, nats.RootCAs(root)); err == nil {
		nc.Close()
		t.Fatal("NATS accepted a client without a certificate")
	}
	sc, err := nats.Connect(url, nats.ClientCert(pdpCert, pdpKey), nats.RootCAs(root))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	set := revocation.NewSet()
	sub, err := revocation.Subscribe(t.Context(), sc, set)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	serveCA(t, "--dir", dir, "--listen", "127.0.0.1:0", "--nats", url,
		"--nats-cert", filepath.Join(dir, caAdminCert), "--nats-key", filepath.Join(dir, caAdminKey), "--nats-ca", root)
	code, _, errOut := runCLI(t, "", "ca", "revoke", "--config", filepath.Join(dir, "verdict.yaml"), "--serial", victim.String(), "--reason", "superseded")
	if code != 0 {
		t.Fatalf("revoke exit %d: %s", code, errOut)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if e, ok := set.Lookup(victim); ok && e.Reason == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("revocation event not received over mTLS NATS")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func caReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func caCertPool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}
