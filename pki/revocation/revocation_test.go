package revocation_test

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/revocation"
)

func TestSet(t *testing.T) {
	s := revocation.NewSet()
	var got []revocation.Entry
	var mu sync.Mutex
	cancel := s.Subscribe(func(e revocation.Entry) { mu.Lock(); got = append(got, e); mu.Unlock() })
	now := time.Now()
	if !s.Add(revocation.Entry{Serial: big.NewInt(5), RevokedAt: now, NotAfter: now.Add(time.Hour)}) {
		t.Fatal("first Add not new")
	}
	if s.Add(revocation.Entry{Serial: big.NewInt(5)}) {
		t.Fatal("replayed Add reported new")
	}
	s.Add(revocation.Entry{Serial: big.NewInt(6), NotAfter: now.Add(-time.Minute)})
	if err := s.CheckRevocation(&x509.Certificate{SerialNumber: big.NewInt(5)}); !errors.Is(err, revocation.ErrRevoked) {
		t.Fatalf("revoked serial: %v", err)
	}
	if err := s.CheckRevocation(&x509.Certificate{SerialNumber: big.NewInt(7)}); err != nil {
		t.Fatalf("good serial: %v", err)
	}
	if n := s.Prune(now); n != 1 || s.Len() != 1 {
		t.Fatalf("Prune removed %d, %d left", n, s.Len())
	}
	cancel()
	cancel()
	s.Add(revocation.Entry{Serial: big.NewInt(8)})
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("subscriber saw %d events, want 2 (before unsubscribing)", len(got))
	}
}

func TestAny(t *testing.T) {
	a, b := revocation.NewSet(), revocation.NewSet()
	b.Add(revocation.Entry{Serial: big.NewInt(9)})
	c := revocation.Any(a, nil, b)
	if err := c.CheckRevocation(&x509.Certificate{SerialNumber: big.NewInt(9)}); !errors.Is(err, revocation.ErrRevoked) {
		t.Fatal(err)
	}
	if err := c.CheckRevocation(&x509.Certificate{SerialNumber: big.NewInt(1)}); err != nil {
		t.Fatal(err)
	}
}

func TestCRL(t *testing.T) {
	key, err := keyfile.Generate(keyfile.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	issuer, _ := x509.ParseCertificate(der)
	var number atomic.Int64
	var revoked sync.Map
	mkCRL := func(n int64) []byte {
		list := &x509.RevocationList{Number: big.NewInt(n), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Minute)}
		revoked.Range(func(k, _ any) bool {
			list.RevokedCertificateEntries = append(list.RevokedCertificateEntries, x509.RevocationListEntry{SerialNumber: big.NewInt(k.(int64)), RevocationTime: time.Now()})
			return true
		})
		d, err := x509.CreateRevocationList(rand.Reader, list, issuer, key)
		if err != nil {
			t.Error(err)
		}
		return d
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(mkCRL(number.Add(1)))
	}))
	defer srv.Close()

	c, err := revocation.NewCRL(t.Context(), srv.URL, issuer, revocation.WithRefresh(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cert := &x509.Certificate{SerialNumber: big.NewInt(42)}
	if err := c.CheckRevocation(cert); err != nil {
		t.Fatalf("before: %v", err)
	}
	revoked.Store(int64(42), true)
	deadline := time.Now().Add(5 * time.Second)
	for c.CheckRevocation(cert) == nil {
		if time.Now().After(deadline) {
			t.Fatal("refresh never picked up the revocation")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A CRL with a lower number is ignored; one signed by someone else is refused.
	if err := c.Load(mkCRL(1)); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckRevocation(cert); !errors.Is(err, revocation.ErrRevoked) {
		t.Fatal("an older CRL rolled the revocation back")
	}
	otherKey, _ := keyfile.Generate(keyfile.ECDSAP256)
	forged, _ := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1 << 40), ThisUpdate: time.Now(), NextUpdate: time.Now().Add(time.Minute)},
		issuer, otherKey)
	if err := c.Load(forged); err == nil {
		t.Fatal("CRL with a bad signature accepted")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	stale, err := revocation.NewCRL(t.Context(), srv.URL, issuer, revocation.WithFailClosed(), revocation.WithRefresh(time.Hour),
		revocation.WithCRLClock(func() time.Time { return time.Now().Add(2 * time.Minute) }))
	if err != nil {
		t.Fatal(err)
	}
	defer stale.Close()
	if err := stale.CheckRevocation(&x509.Certificate{SerialNumber: big.NewInt(1)}); !errors.Is(err, revocation.ErrStaleCRL) {
		t.Fatalf("stale CRL fail-closed: %v", err)
	}
	if _, err := revocation.NewCRL(t.Context(), srv.URL+"/nope", &x509.Certificate{}, revocation.WithHTTPClient(&http.Client{Timeout: time.Second})); err == nil {
		t.Fatal("unverifiable CRL accepted")
	}
}
