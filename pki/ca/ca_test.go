package ca_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/spiffeid"
)

func TestIssueProfiles(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		profile ca.Profile
		eku     []x509.ExtKeyUsage
		dns     []string
		ips     []net.IP
	}{
		{ca.ProfileServer, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []string{"billing.internal"}, []net.IP{net.ParseIP("10.0.0.7")}},
		{ca.ProfileClient, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, nil},
		{ca.ProfilePeer, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, []string{"billing"}, nil},
	}
	for _, tc := range cases {
		t.Run(string(tc.profile), func(t *testing.T) {
			key := newKey(t)
			got, err := f.ca.Issue(t.Context(), ca.IssueRequest{
				PublicKey: key.Public(), Service: "billing", Profile: tc.profile, DNSNames: tc.dns, IPAddresses: tc.ips,
			})
			if err != nil {
				t.Fatal(err)
			}
			leaf := got.Leaf
			if !slices.Equal(leaf.ExtKeyUsage, tc.eku) {
				t.Errorf("EKU = %v, want %v", leaf.ExtKeyUsage, tc.eku)
			}
			if leaf.KeyUsage != x509.KeyUsageDigitalSignature || leaf.IsCA {
				t.Errorf("KeyUsage = %v IsCA = %v", leaf.KeyUsage, leaf.IsCA)
			}
			id, err := spiffeid.FromCertificate(leaf)
			if err != nil || id.String() != "spiffe://example.org/service/billing" || id.Service() != "billing" {
				t.Errorf("identity = %v, %v", id, err)
			}
			if !slices.Equal(leaf.DNSNames, tc.dns) || len(leaf.IPAddresses) != len(tc.ips) {
				t.Errorf("SANs = %v %v", leaf.DNSNames, leaf.IPAddresses)
			}
			if lt := leaf.NotAfter.Sub(f.clock.Now()); lt != ca.DefaultLifetime {
				t.Errorf("lifetime = %s, want %s", lt, ca.DefaultLifetime)
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: f.ca.Bundle().Pool(), CurrentTime: f.clock.Now(), KeyUsages: tc.eku}); err != nil {
				t.Errorf("does not chain to the root: %v", err)
			}
			rec, err := f.ca.Store().Certificate(t.Context(), leaf.SerialNumber)
			if err != nil || rec.Profile != string(tc.profile) || rec.Service != "billing" {
				t.Errorf("store record = %+v, %v", rec, err)
			}
		})
	}
	if _, err := f.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: newKey(t).Public(), Service: "x", Profile: ca.ProfileClient, DNSNames: []string{"x.internal"}}); !errors.Is(err, ca.ErrInvalidRequest) {
		t.Errorf("client profile with DNS SAN: err = %v, want ErrInvalidRequest", err)
	}
	if got := counter(t, f.reg, "verdict_ca_certificates_issued_total", map[string]string{"profile": "peer", "method": "issue"}); got != 1 {
		t.Errorf("issued{peer,issue} = %v, want 1", got)
	}
	if n := len(f.audit.find(ca.ActionIssue, ca.OutcomeSuccess)); n != 3 {
		t.Errorf("%d issue audit events, want 3", n)
	}
}

func TestLifetimeBounds(t *testing.T) {
	f := newFixture(t, ca.WithLifetime(5*time.Minute, time.Hour))
	key := newKey(t)
	got, err := f.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: key.Public(), Service: "a", Profile: ca.ProfilePeer})
	if err != nil {
		t.Fatal(err)
	}
	if lt := got.Leaf.NotAfter.Sub(f.clock.Now()); lt != 5*time.Minute {
		t.Fatalf("default lifetime = %s, want 5m", lt)
	}
	if _, err := f.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: key.Public(), Service: "a", Profile: ca.ProfilePeer, Lifetime: time.Minute}); err != nil {
		t.Fatalf("1 minute lifetime refused: %v", err)
	}
	for _, lt := range []time.Duration{30 * time.Second, 2 * time.Hour} {
		if _, err := f.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: key.Public(), Service: "a", Profile: ca.ProfilePeer, Lifetime: lt}); !errors.Is(err, ca.ErrLifetime) {
			t.Errorf("lifetime %s: err = %v, want ErrLifetime", lt, err)
		}
	}
	if _, err := ca.New(t.Context(), t.TempDir(), ca.WithLifetime(30*time.Second, 0)); !errors.Is(err, ca.ErrLifetime) {
		t.Errorf("CA with 30s default lifetime: err = %v, want ErrLifetime", err)
	}
}

func TestSignAuthorization(t *testing.T) {
	f := newFixture(t)
	key := newKey(t)
	der := csr(t, key, "orders", []string{"orders.internal"}, []net.IP{net.ParseIP("127.0.0.1")})

	_, err := f.ca.Sign(t.Context(), ca.SignRequest{Caller: spiffeid.Must(td, "orders"), CSR: der, Profile: ca.ProfileServer})
	if !errors.Is(err, ca.ErrForbidden) {
		t.Fatalf("non-admin sign: err = %v, want ErrForbidden", err)
	}
	if _, err := f.ca.Sign(t.Context(), ca.SignRequest{CSR: der, Profile: ca.ProfileServer}); !errors.Is(err, ca.ErrForbidden) {
		t.Fatalf("anonymous sign: err = %v, want ErrForbidden", err)
	}
	if n := len(f.audit.find(ca.ActionSign, ca.OutcomeDenied)); n != 2 {
		t.Fatalf("%d denied audit events, want 2", n)
	}
	got, err := f.ca.Sign(t.Context(), ca.SignRequest{Caller: admin, CSR: der, Profile: ca.ProfileServer})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID.Service() != "orders" || !slices.Equal(got.Leaf.DNSNames, []string{"orders.internal"}) || len(got.Leaf.IPAddresses) != 1 {
		t.Fatalf("issued %v with %v %v", got.ID, got.Leaf.DNSNames, got.Leaf.IPAddresses)
	}
	// Hosts given explicitly override the CSR's.
	got, err = f.ca.Sign(t.Context(), ca.SignRequest{Caller: admin, CSR: der, Service: "orders-api", Profile: ca.ProfileServer, Hosts: []string{"api.internal", "::1"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID.Service() != "orders-api" || !slices.Equal(got.Leaf.DNSNames, []string{"api.internal"}) || !got.Leaf.IPAddresses[0].Equal(net.ParseIP("::1")) {
		t.Fatalf("issued %v with %v %v", got.ID, got.Leaf.DNSNames, got.Leaf.IPAddresses)
	}
	// A CSR asking for another identity is refused.
	bad := csr(t, key, "orders", nil, nil, "spiffe://example.org/service/payments")
	if _, err := f.ca.Sign(t.Context(), ca.SignRequest{Caller: admin, CSR: bad, Service: "orders", Profile: ca.ProfilePeer}); !errors.Is(err, ca.ErrInvalidCSR) {
		t.Fatalf("CSR for another identity: err = %v, want ErrInvalidCSR", err)
	}
	// Garbage is refused.
	if _, err := f.ca.Sign(t.Context(), ca.SignRequest{Caller: admin, CSR: []byte("nope"), Profile: ca.ProfilePeer}); !errors.Is(err, ca.ErrInvalidCSR) {
		t.Fatalf("garbage CSR: err = %v, want ErrInvalidCSR", err)
	}
}

func TestNewCert(t *testing.T) {
	f := newFixture(t)
	got, key, err := f.ca.NewCert(t.Context(), ca.NewCertRequest{Caller: admin, Service: "cli", Profile: ca.ProfileClient, KeyAlgorithm: keyfile.Ed25519})
	if err != nil {
		t.Fatal(err)
	}
	if !keyfile.MatchesPublic(key, got.Leaf.PublicKey) {
		t.Fatal("returned key does not match certificate")
	}
	if _, _, err := f.ca.NewCert(t.Context(), ca.NewCertRequest{Caller: spiffeid.Must(td, "cli"), Service: "cli", Profile: ca.ProfileClient}); !errors.Is(err, ca.ErrForbidden) {
		t.Fatalf("non-admin newcert: err = %v", err)
	}
}

func TestCustomAuthorizer(t *testing.T) {
	ops := spiffeid.Must(td, "ops")
	f := newFixture(t, ca.WithAuthorizer(authorizerFunc(func(req ca.AuthzRequest) error {
		if req.Caller == ops && req.Action == ca.ActionNewCert {
			return nil
		}
		return errors.New("policy says no")
	})))
	if _, _, err := f.ca.NewCert(t.Context(), ca.NewCertRequest{Caller: ops, Service: "x", Profile: ca.ProfilePeer}); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.ca.NewCert(t.Context(), ca.NewCertRequest{Caller: admin, Service: "x", Profile: ca.ProfilePeer})
	if !errors.Is(err, ca.ErrForbidden) {
		t.Fatalf("err = %v, want ErrForbidden wrapping the authorizer's error", err)
	}
}

type authorizerFunc func(ca.AuthzRequest) error

func (f authorizerFunc) Authorize(_ context.Context, req ca.AuthzRequest) error { return f(req) }

func TestKeysOnDisk(t *testing.T) {
	f := newFixture(t)
	fi, err := os.Stat(filepath.Join(f.dir, "root-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("root key mode = %04o, want 0600", fi.Mode().Perm())
	}
	root := f.ca.Root()
	if err := f.ca.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.ca.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Restart keeps the same root.
	c2, err := ca.New(t.Context(), f.dir, ca.WithTrustDomain(td))
	if err != nil {
		t.Fatal(err)
	}
	if !c2.Root().Equal(root) {
		t.Fatal("restart created a new root")
	}
	_ = c2.Close()
	// A key readable by others is refused.
	if err := os.Chmod(filepath.Join(f.dir, "root-key.pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.New(t.Context(), f.dir, ca.WithTrustDomain(td)); !errors.Is(err, keyfile.ErrPermissions) {
		t.Fatalf("world-readable key: err = %v, want keyfile.ErrPermissions", err)
	}
}
