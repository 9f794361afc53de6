package ca_test

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// operatorRoot writes an operator's root certificate and key.
func operatorRoot(t *testing.T) (certFile, keyFile string, root *x509.Certificate) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "Operator Root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	root, _ = x509.ParseCertificate(der)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "op-root.pem"), filepath.Join(dir, "op-root-key.pem")
	if err := os.WriteFile(certFile, x509svid.EncodeCertificates([]*x509.Certificate{root}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := keyfile.Write(keyFile, key); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, root
}

func TestIntermediateUnderOperatorRoot(t *testing.T) {
	certFile, keyFile, root := operatorRoot(t)
	f := newFixture(t, ca.WithRoot(certFile, keyFile))
	if !f.ca.Root().Equal(root) {
		t.Fatal("bundle root is not the operator root")
	}
	if f.ca.Issuer().Equal(root) || len(f.ca.Intermediates()) != 1 {
		t.Fatal("no intermediate created")
	}
	if _, err := os.Stat(filepath.Join(f.dir, "root-key.pem")); !os.IsNotExist(err) {
		t.Fatal("operator root key was copied into the CA directory")
	}
	fi, err := os.Stat(filepath.Join(f.dir, "intermediate-key.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("intermediate key: %v %v", fi, err)
	}
	got, err := f.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: newKey(t).Public(), Service: "billing", Profile: ca.ProfilePeer})
	if err != nil {
		t.Fatal(err)
	}
	inter := x509.NewCertPool()
	for _, c := range got.Intermediates {
		inter.AddCert(c)
	}
	pool := x509.NewCertPool()
	pool.AddCert(root)
	if _, err := got.Leaf.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: f.clock.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("leaf does not chain to the operator root: %v", err)
	}
	// CRLs are signed by the intermediate.
	list, err := x509.ParseRevocationList(f.ca.CRL().DER)
	if err != nil {
		t.Fatal(err)
	}
	if err := list.CheckSignatureFrom(f.ca.Issuer()); err != nil {
		t.Fatal(err)
	}

	// Restart without the root key works; another root is refused.
	if err := f.ca.Close(); err != nil {
		t.Fatal(err)
	}
	c2, err := ca.New(t.Context(), f.dir, ca.WithTrustDomain(td))
	if err != nil {
		t.Fatal(err)
	}
	if !c2.Issuer().Equal(f.ca.Issuer()) {
		t.Fatal("restart changed the intermediate")
	}
	_ = c2.Close()
	other, otherKey, _ := operatorRoot(t)
	if _, err := ca.New(t.Context(), f.dir, ca.WithTrustDomain(td), ca.WithRoot(other, otherKey)); !errors.Is(err, ca.ErrStateMismatch) {
		t.Fatalf("other root: err = %v, want ErrStateMismatch", err)
	}
}
