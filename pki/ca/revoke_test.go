package ca_test

import (
	"context"
	"crypto/x509"
	"errors"
	"math/big"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/ocspresponder"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/spiffeid"
)

type notifier struct {
	mu  sync.Mutex
	got []revocation.Entry
}

func (n *notifier) NotifyRevocation(_ context.Context, e revocation.Entry) {
	n.mu.Lock()
	n.got = append(n.got, e)
	n.mu.Unlock()
}

func TestRevoke(t *testing.T) {
	n := &notifier{}
	f := newFixture(t, ca.WithRevocationNotifier(n))
	cert, err := f.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: newKey(t).Public(), Service: "billing", Profile: ca.ProfilePeer})
	if err != nil {
		t.Fatal(err)
	}
	serial := cert.Leaf.SerialNumber
	status := func() ocspresponder.Status {
		st, err := f.ca.OCSPStatus(t.Context(), serial)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := status(); st.State != ocsp.Good {
		t.Fatalf("before revocation: state %d", st.State)
	}
	before := f.ca.CRL()

	if err := f.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: spiffeid.Must(td, "billing"), Serial: serial}); !errors.Is(err, ca.ErrForbidden) {
		t.Fatalf("non-admin revoke: err = %v", err)
	}
	reason, err := ca.ParseReason("keyCompromise")
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Second)
	if err := f.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: serial, Reason: reason}); err != nil {
		t.Fatal(err)
	}
	if st := status(); st.State != ocsp.Revoked || st.Reason != ocsp.KeyCompromise {
		t.Fatalf("after revocation: %+v", st)
	}
	if err := f.ca.Revocations().CheckRevocation(cert.Leaf); !errors.Is(err, revocation.ErrRevoked) {
		t.Fatalf("revocation set: %v", err)
	}
	crl := f.ca.CRL()
	if crl.Number.Cmp(before.Number) <= 0 {
		t.Fatalf("CRL number did not increase: %v -> %v", before.Number, crl.Number)
	}
	list, err := x509.ParseRevocationList(crl.DER)
	if err != nil {
		t.Fatal(err)
	}
	if err := list.CheckSignatureFrom(f.ca.Issuer()); err != nil {
		t.Fatal(err)
	}
	if len(list.RevokedCertificateEntries) != 1 || list.RevokedCertificateEntries[0].SerialNumber.Cmp(serial) != 0 ||
		list.RevokedCertificateEntries[0].ReasonCode != ocsp.KeyCompromise {
		t.Fatalf("CRL entries = %+v", list.RevokedCertificateEntries)
	}
	if err := f.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: serial}); !errors.Is(err, ca.ErrAlreadyRevoked) {
		t.Fatalf("second revoke: err = %v", err)
	}
	if err := f.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: new(big.Int).Lsh(serial, 1)}); !errors.Is(err, ca.ErrNotFound) {
		t.Fatalf("unknown serial: err = %v", err)
	}
	if len(n.got) != 1 || n.got[0].Serial.Cmp(cert.Leaf.SerialNumber) != 0 {
		t.Fatalf("notifier got %+v", n.got)
	}
	if got := counter(t, f.reg, "verdict_ca_certificates_revoked_total", map[string]string{"reason": "keyCompromise"}); got != 1 {
		t.Fatalf("revoked counter = %v", got)
	}
	if len(f.audit.find(ca.ActionRevoke, ca.OutcomeSuccess)) != 1 || len(f.audit.find(ca.ActionRevoke, ca.OutcomeDenied)) != 1 {
		t.Fatal("revocations not audited")
	}

	// Revocations survive a restart.
	dir := f.dir
	if err := f.ca.Close(); err != nil {
		t.Fatal(err)
	}
	c2, err := ca.New(t.Context(), dir, ca.WithTrustDomain(td), ca.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.Revocations().CheckRevocation(cert.Leaf); !errors.Is(err, revocation.ErrRevoked) {
		t.Fatalf("after restart: %v", err)
	}
}

func TestParseReason(t *testing.T) {
	for in, want := range map[string]int{"": 0, "superseded": 4, "KEYCOMPROMISE": 1, "5": 5} {
		if got, err := ca.ParseReason(in); err != nil || got != want {
			t.Errorf("ParseReason(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"certificateHold", "removeFromCRL", "7", "bogus"} {
		if _, err := ca.ParseReason(in); !errors.Is(err, ca.ErrInvalidRequest) {
			t.Errorf("ParseReason(%q) err = %v", in, err)
		}
	}
}

func TestOCSPUnknownSerial(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t)
	foreign, err := other.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: newKey(t).Public(), Service: "x", Profile: ca.ProfilePeer})
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.ca.OCSPStatus(t.Context(), foreign.Leaf.SerialNumber)
	if err != nil || st.State != ocsp.Unknown {
		t.Fatalf("unknown serial: %+v %v", st, err)
	}
}

func TestExpiringGauge(t *testing.T) {
	f := newFixture(t, ca.WithExpiringWindow(time.Hour), ca.WithMaintenanceInterval(10*time.Millisecond))
	for _, lt := range []time.Duration{30 * time.Minute, 2 * time.Hour} {
		if _, err := f.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: newKey(t).Public(), Service: "x", Profile: ca.ProfilePeer, Lifetime: lt}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for counter(t, f.reg, "verdict_ca_certificates_expiring_soon", nil) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("expiring gauge = %v, want 1", counter(t, f.reg, "verdict_ca_certificates_expiring_soon", nil))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
