package tlsconfig_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

// TestOperatorFiles: files of an operator's own PKI (no spiffe:// URI, a
// key readable by its group) load with Files.Operator and are refused
// without it.
func TestOperatorFiles(t *testing.T) {
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "pdp"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	files := tlsconfig.Files{Cert: filepath.Join(dir, "c.pem"), Key: filepath.Join(dir, "k.pem"), Bundle: filepath.Join(dir, "c.pem")}
	if err := os.WriteFile(files.Cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files.Key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := tlsconfig.LoadFiles(files); err == nil {
		t.Fatal("Verdict CA files: a group-readable key without identity loaded")
	}
	files.Operator = true
	src, err := tlsconfig.LoadFiles(files)
	if err != nil {
		t.Fatalf("operator files: %v", err)
	}
	if !src.SVID().ID.IsZero() || src.SVID().Leaf().SerialNumber.Int64() != 7 {
		t.Fatalf("loaded %v serial %v", src.SVID().ID, src.SVID().Leaf().SerialNumber)
	}
}

// TestRefuseRevoked: a server configuration that does not check
// revocation itself refuses revoked clients once wrapped, on a static
// configuration and on one built by ServerConfig alike.
func TestRefuseRevoked(t *testing.T) {
	e := newEnv(t)
	ssrc := e.source(t, "billing")
	pool := x509.NewCertPool()
	pool.AddCert(e.ca.Root())
	static := &tls.Config{Certificates: []tls.Certificate{*ssrc.Certificate()}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	for name, sc := range map[string]*tls.Config{"static": static, "ServerConfig": tlsconfig.ServerConfig(ssrc, tlsconfig.WithLogger(slogDiscard()))} {
		t.Run(name, func(t *testing.T) {
			logs, csrc := &logRecorder{}, e.source(t, "orders")
			cc := tlsconfig.ClientConfig(csrc, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeAny()), tlsconfig.WithLogger(slogDiscard()))
			wrapped := tlsconfig.RefuseRevoked(sc, e.ca.Revocations(), tlsconfig.WithLogger(logs.logger()))
			if _, serr, cerr := handshake(t, wrapped, cc); serr != nil || cerr != nil {
				t.Fatalf("before revocation: %v %v", serr, cerr)
			}
			if err := e.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: csrc.SVID().Leaf().SerialNumber}); err != nil {
				t.Fatal(err)
			}
			_, serr, _ := handshake(t, wrapped, cc)
			var pe *tlsconfig.PeerError
			if !errors.Is(serr, tlsconfig.ErrRevoked) || !errors.As(serr, &pe) || pe.Side != "server" {
				t.Fatalf("after revocation: server err = %v, want a server-side ErrRevoked", serr)
			}
			logs.waitFor(t, "tls: refused peer certificate", map[string]string{"reason": "revoked"})
		})
	}
}
