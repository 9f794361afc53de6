package caservice_test

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/x509svid"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// Under an operator's root the CA issues through an intermediate: Info and
// every issued certificate carry it, and the root stays the operator's.
func TestIntermediateChain(t *testing.T) {
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Operator Root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := x509.ParseCertificate(der)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "op.pem"), filepath.Join(dir, "op-key.pem")
	if err := os.WriteFile(certFile, x509svid.EncodeCertificates([]*x509.Certificate{root}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := keyfile.Write(keyFile, key); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, ca.WithRoot(certFile, keyFile))
	for name, c := range f.clients(t, f.svid(t, "admin", ca.ProfileClient)) {
		t.Run(name, func(t *testing.T) {
			info, err := c.Info(t.Context(), &verdictv1.InfoRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if !parseCert(t, info.GetRootCertificatePem()).Equal(root) {
				t.Fatal("root is not the operator's")
			}
			if len(info.GetIssuerChainPem()) != 1 || !parseCert(t, info.GetIssuerChainPem()[0]).Equal(f.ca.Issuer()) {
				t.Fatalf("issuer chain has %d certificates, want the intermediate", len(info.GetIssuerChainPem()))
			}
			got, err := c.Sign(t.Context(), &verdictv1.SignRequest{CsrPem: csrPEM(t, newKey(t)), Service: "billing",
				Profile: verdictv1.CertificateProfile_CERTIFICATE_PROFILE_PEER})
			if err != nil {
				t.Fatal(err)
			}
			leaf := parseCert(t, got.GetCertificate().GetCertificatePem())
			if len(got.GetCertificate().GetChainPem()) != 1 {
				t.Fatalf("chain has %d certificates", len(got.GetCertificate().GetChainPem()))
			}
			inter := x509.NewCertPool()
			inter.AddCert(parseCert(t, got.GetCertificate().GetChainPem()[0]))
			roots := x509.NewCertPool()
			roots.AddCert(root)
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
