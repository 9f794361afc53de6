package ca_test

import (
	"crypto/x509"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
)

func TestRenew(t *testing.T) {
	f := newFixture(t)
	cur, err := f.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: newKey(t).Public(), Service: "billing", Profile: ca.ProfileServer,
		DNSNames: []string{"billing.internal"}, Lifetime: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(20 * time.Minute)
	next, err := f.ca.Renew(t.Context(), cur.Chain(), csr(t, newKey(t), "", nil, nil))
	if err != nil {
		t.Fatal(err)
	}
	if next.ID != cur.ID || next.Profile != ca.ProfileServer || !slices.Equal(next.Leaf.DNSNames, cur.Leaf.DNSNames) {
		t.Fatalf("renewed %v %v %v", next.ID, next.Profile, next.Leaf.DNSNames)
	}
	if lt := next.Leaf.NotAfter.Sub(f.clock.Now()); lt != 30*time.Minute {
		t.Fatalf("renewed lifetime = %s, want 30m", lt)
	}
	if next.Leaf.SerialNumber.Cmp(cur.Leaf.SerialNumber) == 0 {
		t.Fatal("same serial")
	}
	if got := counter(t, f.reg, "verdict_ca_certificates_renewed_total", map[string]string{"profile": "server"}); got != 1 {
		t.Fatalf("renewed counter = %v", got)
	}
	if len(f.audit.find(ca.ActionRenew, ca.OutcomeSuccess)) != 1 {
		t.Fatal("renewal not audited")
	}
}

func TestRenewRefusals(t *testing.T) {
	f := newFixture(t)
	issue := func() *ca.Issued {
		c, err := f.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: newKey(t).Public(), Service: "billing", Profile: ca.ProfilePeer, Lifetime: 10 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	newCSR := csr(t, newKey(t), "", nil, nil)

	revoked := issue()
	if err := f.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: revoked.Leaf.SerialNumber}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ca.Renew(t.Context(), revoked.Chain(), newCSR); !errors.Is(err, ca.ErrNotRenewable) {
		t.Errorf("revoked: err = %v, want ErrNotRenewable", err)
	}

	other := newFixture(t)
	foreign, err := other.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: newKey(t).Public(), Service: "billing", Profile: ca.ProfilePeer})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ca.Renew(t.Context(), foreign.Chain(), newCSR); !errors.Is(err, ca.ErrNotRenewable) {
		t.Errorf("other CA: err = %v, want ErrNotRenewable", err)
	}

	expired := issue()
	f.clock.Advance(11 * time.Minute)
	if _, err := f.ca.Renew(t.Context(), expired.Chain(), newCSR); !errors.Is(err, ca.ErrNotRenewable) {
		t.Errorf("expired: err = %v, want ErrNotRenewable", err)
	}

	if _, err := f.ca.Renew(t.Context(), []*x509.Certificate{}, newCSR); !errors.Is(err, ca.ErrNotRenewable) {
		t.Errorf("no certificate: err = %v", err)
	}

	good := issue()
	if _, err := f.ca.Renew(t.Context(), good.Chain(), csr(t, newKey(t), "", []string{"extra.internal"}, nil)); !errors.Is(err, ca.ErrInvalidCSR) {
		t.Errorf("extra names: err = %v, want ErrInvalidCSR", err)
	}
}
