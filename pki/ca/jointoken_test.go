package ca_test

import (
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/store"
)

func TestJoinTokenSingleUse(t *testing.T) {
	f := newFixture(t)
	tok, err := f.ca.CreateJoinToken(t.Context(), ca.JoinTokenRequest{
		Caller: admin, Service: "billing", Profile: ca.ProfileServer, Hosts: []string{"billing.internal", "10.1.2.3"}, Lifetime: 2 * time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Secret, "vjt_") || tok.ID.String() != "spiffe://example.org/service/billing" {
		t.Fatalf("token = %+v", tok)
	}
	if !tok.ExpiresAt.Equal(f.clock.Now().Add(ca.DefaultJoinTokenTTL)) {
		t.Fatalf("expires %s, want now+%s", tok.ExpiresAt, ca.DefaultJoinTokenTTL)
	}
	key := newKey(t)
	got, err := f.ca.Redeem(t.Context(), tok.Secret, csr(t, key, "", []string{"billing.internal"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID.Service() != "billing" || got.Profile != ca.ProfileServer ||
		strings.Join(got.Leaf.DNSNames, ",") != "billing.internal" || !got.Leaf.IPAddresses[0].Equal(net.ParseIP("10.1.2.3")) {
		t.Fatalf("issued %v %v %v %v", got.ID, got.Profile, got.Leaf.DNSNames, got.Leaf.IPAddresses)
	}
	if lt := got.Leaf.NotAfter.Sub(f.clock.Now()); lt != 2*time.Hour {
		t.Fatalf("lifetime = %s, want the token's 2h", lt)
	}
	if _, err := f.ca.Redeem(t.Context(), tok.Secret, csr(t, newKey(t), "", nil, nil)); !errors.Is(err, ca.ErrInvalidToken) || !errors.Is(err, store.ErrTokenUsed) {
		t.Fatalf("second redemption: err = %v, want ErrInvalidToken (used)", err)
	}
	if len(f.audit.find(ca.ActionJoin, ca.OutcomeSuccess)) != 1 || len(f.audit.find(ca.ActionJoin, ca.OutcomeFailed)) != 1 {
		t.Fatal("join attempts not audited")
	}
	if got := counter(t, f.reg, "verdict_ca_join_tokens_total", map[string]string{"result": "redeemed"}); got != 1 {
		t.Fatalf("redeemed counter = %v", got)
	}
}

func TestJoinTokenTTL(t *testing.T) {
	f := newFixture(t)
	tok, err := f.ca.CreateJoinToken(t.Context(), ca.JoinTokenRequest{Caller: admin, Service: "billing", TTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Minute)
	if _, err := f.ca.Redeem(t.Context(), tok.Secret, csr(t, newKey(t), "", nil, nil)); !errors.Is(err, store.ErrTokenExpired) {
		t.Fatalf("expired token: err = %v, want ErrTokenExpired", err)
	}
	if _, err := f.ca.CreateJoinToken(t.Context(), ca.JoinTokenRequest{Caller: admin, Service: "billing", TTL: 25 * time.Hour}); !errors.Is(err, ca.ErrInvalidRequest) {
		t.Fatalf("25h TTL: err = %v", err)
	}
}

func TestJoinTokenRules(t *testing.T) {
	f := newFixture(t)
	if _, err := f.ca.CreateJoinToken(t.Context(), ca.JoinTokenRequest{Caller: spiffeid.Must(td, "billing"), Service: "billing"}); !errors.Is(err, ca.ErrForbidden) {
		t.Fatalf("non-admin: err = %v", err)
	}
	if _, err := f.ca.CreateJoinToken(t.Context(), ca.JoinTokenRequest{Caller: admin, Service: "admin"}); !errors.Is(err, ca.ErrReservedIdentity) {
		t.Fatalf("admin identity: err = %v", err)
	}
	if _, err := f.ca.CreateJoinToken(t.Context(), ca.JoinTokenRequest{Caller: admin, Service: "Bad_Name"}); !errors.Is(err, ca.ErrInvalidRequest) {
		t.Fatalf("bad service name: err = %v", err)
	}
	tok, err := f.ca.CreateJoinToken(t.Context(), ca.JoinTokenRequest{Caller: admin, Service: "billing", Hosts: []string{"billing.internal"}})
	if err != nil {
		t.Fatal(err)
	}
	// A CSR asking for more than the token grants is refused and does not
	// burn the token.
	if _, err := f.ca.Redeem(t.Context(), tok.Secret, csr(t, newKey(t), "", []string{"evil.example.com"}, nil)); !errors.Is(err, ca.ErrInvalidCSR) {
		t.Fatalf("extra DNS name: err = %v, want ErrInvalidCSR", err)
	}
	if _, err := f.ca.Redeem(t.Context(), tok.Secret, csr(t, newKey(t), "", nil, nil, "spiffe://example.org/service/admin")); !errors.Is(err, ca.ErrInvalidCSR) {
		t.Fatalf("other identity: err = %v, want ErrInvalidCSR", err)
	}
	got, err := f.ca.Redeem(t.Context(), tok.Secret, csr(t, newKey(t), "", nil, nil))
	if err != nil {
		t.Fatalf("token burnt by refused CSRs: %v", err)
	}
	if got.Profile != ca.ProfilePeer {
		t.Fatalf("default profile = %s, want peer", got.Profile)
	}
	if _, err := f.ca.Redeem(t.Context(), "vjt_unknown", csr(t, newKey(t), "", nil, nil)); !errors.Is(err, store.ErrTokenNotFound) {
		t.Fatalf("unknown token: err = %v", err)
	}
}

// TestJoinTokenConcurrentRedemption is the acceptance test: 100
// clients redeeming one token at once get exactly one certificate.
func TestJoinTokenConcurrentRedemption(t *testing.T) {
	f := newFixture(t)
	tok, err := f.ca.CreateJoinToken(t.Context(), ca.JoinTokenRequest{Caller: admin, Service: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	const clients = 100
	csrs := make([][]byte, clients)
	for i := range csrs {
		csrs[i] = csr(t, newKey(t), "", nil, nil)
	}
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		won      atomic.Int32
		rejected atomic.Int32
		mu       sync.Mutex
		others   []error
	)
	for i := range clients {
		wg.Go(func() {
			<-start
			_, err := f.ca.Redeem(t.Context(), tok.Secret, csrs[i])
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, ca.ErrInvalidToken):
				rejected.Add(1)
			default:
				mu.Lock()
				others = append(others, err)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(others) > 0 {
		t.Fatalf("unexpected errors: %v", others)
	}
	if won.Load() != 1 || rejected.Load() != clients-1 {
		t.Fatalf("%d certificates, %d rejections; want 1 and %d", won.Load(), rejected.Load(), clients-1)
	}
	recs, err := f.ca.Store().ListCertificates(t.Context(), store.Filter{Service: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d certificates stored for billing, want 1", len(recs))
	}
}
