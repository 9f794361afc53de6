package x509svid_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

func leaf(t *testing.T, uris ...string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	for _, u := range uris {
		p, _ := url.Parse(u)
		tmpl.URIs = append(tmpl.URIs, p)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func TestSVIDFiles(t *testing.T) {
	c, key := leaf(t, "spiffe://example.org/service/pap")
	s, err := x509svid.New([]*x509.Certificate{c}, key)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != spiffeid.Must("example.org", "pap") {
		t.Fatalf("ID = %v", s.ID)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	if err := s.WriteFiles(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(keyFile); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", fi.Mode())
	}
	back, err := x509svid.Load(certFile, keyFile)
	if err != nil || !back.Leaf().Equal(c) {
		t.Fatalf("load: %v", err)
	}
	tc := back.TLSCertificate()
	if len(tc.Certificate) != 1 || tc.Leaf != back.Leaf() {
		t.Fatal("TLSCertificate")
	}
}

func TestSVIDRejects(t *testing.T) {
	c, key := leaf(t, "spiffe://example.org/service/pap")
	_, other := leaf(t, "spiffe://example.org/service/pap")
	if _, err := x509svid.New([]*x509.Certificate{c}, other); !errors.Is(err, x509svid.ErrKeyMismatch) {
		t.Fatalf("wrong key: %v", err)
	}
	if _, err := x509svid.New(nil, key); !errors.Is(err, x509svid.ErrNoCertificate) {
		t.Fatalf("no chain: %v", err)
	}
	noID, k2 := leaf(t)
	if _, err := x509svid.New([]*x509.Certificate{noID}, k2); !errors.Is(err, spiffeid.ErrNoIdentity) {
		t.Fatalf("no identity: %v", err)
	}
}
