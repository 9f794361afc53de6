package x509bundle_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/x509bundle"
)

func selfSigned(t *testing.T, isCA bool) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "root"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true, IsCA: isCA,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

func TestBundle(t *testing.T) {
	a, b := selfSigned(t, true), selfSigned(t, true)
	bun, err := x509bundle.New(a, b, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(bun.Certificates()) != 2 || !bun.Contains(b) {
		t.Fatal("duplicates not removed or root missing")
	}
	path := filepath.Join(t.TempDir(), "roots.pem")
	if err := bun.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := x509bundle.Load(path)
	if err != nil || !back.Equal(bun) {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := x509bundle.New(); !errors.Is(err, x509bundle.ErrEmpty) {
		t.Fatalf("empty: %v", err)
	}
	if _, err := x509bundle.New(selfSigned(t, false)); !errors.Is(err, x509bundle.ErrNotCA) {
		t.Fatalf("leaf as root: %v", err)
	}
	if err := os.WriteFile(path, []byte("nothing"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := x509bundle.Load(path); !errors.Is(err, x509bundle.ErrEmpty) {
		t.Fatalf("no PEM: %v", err)
	}
}

func TestFingerprint(t *testing.T) {
	c := selfSigned(t, true)
	fp := x509bundle.FingerprintOf(c)
	hex := fp.String()
	var colon []string
	for i := 0; i < len(hex); i += 2 {
		colon = append(colon, strings.ToUpper(hex[i:i+2]))
	}
	for _, s := range []string{hex, strings.ToUpper(hex), strings.Join(colon, ":"), "sha256:" + hex, "SHA256 Fingerprint=" + strings.Join(colon, ":"), " " + hex + "\n"} {
		got, err := x509bundle.ParseFingerprint(s)
		if err != nil || got != fp {
			t.Errorf("ParseFingerprint(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "abc", hex[:62], hex + "00", "zz" + hex[2:]} {
		if _, err := x509bundle.ParseFingerprint(s); !errors.Is(err, x509bundle.ErrInvalidFingerprint) {
			t.Errorf("ParseFingerprint(%q) accepted", s)
		}
	}
	if !fp.Matches(c) || fp.Matches(selfSigned(t, true)) {
		t.Fatal("Matches")
	}
	if got, ok := fp.Find([]*x509.Certificate{selfSigned(t, true), c}); !ok || got != c {
		t.Fatal("Find")
	}
}
