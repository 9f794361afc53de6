// Package storetest is the behaviour every store.Store backend must show. A
// backend's tests call Run with a constructor, so SQLite and PostgreSQL are
// held to exactly the same contract.
package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/store"
)

// Open returns a fresh, empty store for one subtest; the suite closes it.
type Open func(t *testing.T) store.Store

// Run executes the suite.
func Run(t *testing.T, open Open) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"InsertAndGet", testInsertAndGet},
		{"Duplicate", testDuplicate},
		{"List", testList},
		{"Revoke", testRevoke},
		{"RevokedUnexpired", testRevokedUnexpired},
		{"CountExpiring", testCountExpiring},
		{"RedeemOnce", testRedeemOnce},
		{"RedeemExpired", testRedeemExpired},
		{"RedeemUnknown", testRedeemUnknown},
		{"RedeemIssueFailureKeepsToken", testRedeemIssueFailure},
		{"RedeemConcurrent", testRedeemConcurrent},
		{"DeleteExpiredJoinTokens", testDeleteExpired},
		{"CloseIdempotent", testCloseIdempotent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { _ = s.Close() })
			tc.fn(t, s)
		})
	}
}

var base = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func serial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	return n.Add(n, big.NewInt(1))
}

func cert(t *testing.T, service string, notAfter time.Time) store.Certificate {
	return store.Certificate{
		Serial:      serial(t),
		Service:     service,
		Subject:     "CN=" + service,
		URIs:        []string{"spiffe://example.org/service/" + service},
		DNSNames:    []string{service + ".internal"},
		IPAddresses: []string{"127.0.0.1"},
		Profile:     "server",
		NotBefore:   base.Add(-time.Minute),
		NotAfter:    notAfter,
		Status:      store.StatusGood,
		PEM:         []byte("-----BEGIN CERTIFICATE-----\n" + service + "\n-----END CERTIFICATE-----\n"),
	}
}

func testInsertAndGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := cert(t, "billing", base.Add(time.Hour))
	if err := s.InsertCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Certificate(ctx, c.Serial)
	if err != nil {
		t.Fatal(err)
	}
	if got.Serial.Cmp(c.Serial) != 0 || got.Service != c.Service || got.Subject != c.Subject || got.Profile != c.Profile ||
		!got.NotBefore.Equal(c.NotBefore) || !got.NotAfter.Equal(c.NotAfter) || got.Status != store.StatusGood ||
		string(got.PEM) != string(c.PEM) || fmt.Sprint(got.URIs, got.DNSNames, got.IPAddresses) != fmt.Sprint(c.URIs, c.DNSNames, c.IPAddresses) {
		t.Fatalf("round trip mismatch:\n got %+v\nwant %+v", got, c)
	}
	if _, err := s.Certificate(ctx, serial(t)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown serial: err = %v, want ErrNotFound", err)
	}
}

func testDuplicate(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := cert(t, "billing", base.Add(time.Hour))
	if err := s.InsertCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertCertificate(ctx, c); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("err = %v, want ErrDuplicate", err)
	}
	tok := store.JoinToken{Hash: [32]byte{1}, Service: "a", Profile: "peer", CreatedAt: base, ExpiresAt: base.Add(time.Hour)}
	if err := s.InsertJoinToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := s.InsertJoinToken(ctx, tok); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("token err = %v, want ErrDuplicate", err)
	}
}

func testList(t *testing.T, s store.Store) {
	ctx := t.Context()
	var serials []*big.Int
	for i, svc := range []string{"a", "b", "a", "a"} {
		c := cert(t, svc, base.Add(time.Duration(i+1)*time.Hour))
		serials = append(serials, c.Serial)
		if err := s.InsertCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Revoke(ctx, serials[2], base, 1); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListCertificates(ctx, store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || all[0].Serial.Cmp(serials[3]) != 0 {
		t.Fatalf("list all: %d records, first %v; want 4, newest first", len(all), all[0].Serial)
	}
	good, err := s.ListCertificates(ctx, store.Filter{Service: "a", Status: store.StatusGood})
	if err != nil {
		t.Fatal(err)
	}
	if len(good) != 2 {
		t.Fatalf("service a good: %d, want 2", len(good))
	}
	one, err := s.ListCertificates(ctx, store.Filter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != 1 {
		t.Fatalf("limit 1: %d", len(one))
	}
}

func testRevoke(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := cert(t, "billing", base.Add(time.Hour))
	if err := s.InsertCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	at := base.Add(5 * time.Minute)
	got, err := s.Revoke(ctx, c.Serial, at, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusRevoked || !got.RevokedAt.Equal(at) || got.RevocationReason != 1 {
		t.Fatalf("revoke returned %+v", got)
	}
	again, err := s.Certificate(ctx, c.Serial)
	if err != nil {
		t.Fatal(err)
	}
	if again.Status != store.StatusRevoked || !again.RevokedAt.Equal(at) || again.RevocationReason != 1 {
		t.Fatalf("stored after revoke: %+v", again)
	}
	if _, err := s.Revoke(ctx, c.Serial, at, 1); !errors.Is(err, store.ErrAlreadyRevoked) {
		t.Fatalf("second revoke: err = %v, want ErrAlreadyRevoked", err)
	}
	if _, err := s.Revoke(ctx, serial(t), at, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown revoke: err = %v, want ErrNotFound", err)
	}
}

func testRevokedUnexpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	expired := cert(t, "old", base.Add(-time.Second))
	live := cert(t, "live", base.Add(time.Hour))
	good := cert(t, "good", base.Add(time.Hour))
	for _, c := range []store.Certificate{expired, live, good} {
		if err := s.InsertCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []store.Certificate{expired, live} {
		if _, err := s.Revoke(ctx, c.Serial, base.Add(-time.Hour), 4); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.RevokedUnexpired(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Serial.Cmp(live.Serial) != 0 || got[0].RevocationReason != 4 {
		t.Fatalf("RevokedUnexpired = %+v, want only %v", got, live.Serial)
	}
}

func testCountExpiring(t *testing.T, s store.Store) {
	ctx := t.Context()
	soon := cert(t, "soon", base.Add(30*time.Minute))
	later := cert(t, "later", base.Add(48*time.Hour))
	gone := cert(t, "gone", base.Add(-time.Minute))
	revoked := cert(t, "revoked", base.Add(10*time.Minute))
	for _, c := range []store.Certificate{soon, later, gone, revoked} {
		if err := s.InsertCertificate(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Revoke(ctx, revoked.Serial, base, 0); err != nil {
		t.Fatal(err)
	}
	n, err := s.CountExpiring(ctx, base, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("CountExpiring = %d, want 1", n)
	}
}

func token(t *testing.T, s store.Store, ttl time.Duration) [32]byte {
	t.Helper()
	var h [32]byte
	if _, err := rand.Read(h[:]); err != nil {
		t.Fatal(err)
	}
	tok := store.JoinToken{
		Hash: h, Service: "billing", Profile: "server",
		DNSNames: []string{"billing.internal"}, IPAddresses: []string{"10.0.0.1"},
		Lifetime: 2 * time.Hour, CreatedBy: "spiffe://example.org/service/admin",
		CreatedAt: base, ExpiresAt: base.Add(ttl),
	}
	if err := s.InsertJoinToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	return h
}

func testRedeemOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := token(t, s, 10*time.Minute)
	var seen store.JoinToken
	c, err := s.RedeemJoinToken(ctx, h, base.Add(time.Minute), func(tok store.JoinToken) (store.Certificate, error) {
		seen = tok
		return cert(t, tok.Service, base.Add(tok.Lifetime)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen.Service != "billing" || seen.Profile != "server" || seen.Lifetime != 2*time.Hour ||
		fmt.Sprint(seen.DNSNames, seen.IPAddresses) != "[billing.internal] [10.0.0.1]" || !seen.ExpiresAt.Equal(base.Add(10*time.Minute)) {
		t.Fatalf("token passed to issue: %+v", seen)
	}
	if _, err := s.Certificate(ctx, c.Serial); err != nil {
		t.Fatalf("redeemed certificate not stored: %v", err)
	}
	_, err = s.RedeemJoinToken(ctx, h, base.Add(2*time.Minute), func(store.JoinToken) (store.Certificate, error) {
		t.Error("issue called for a used token")
		return store.Certificate{}, errors.New("unreachable")
	})
	if !errors.Is(err, store.ErrTokenUsed) || !errors.Is(err, store.ErrInvalidToken) {
		t.Fatalf("second redeem: err = %v, want ErrTokenUsed", err)
	}
}

func testRedeemExpired(t *testing.T, s store.Store) {
	h := token(t, s, 10*time.Minute)
	_, err := s.RedeemJoinToken(t.Context(), h, base.Add(10*time.Minute), func(store.JoinToken) (store.Certificate, error) {
		t.Error("issue called for an expired token")
		return store.Certificate{}, errors.New("unreachable")
	})
	if !errors.Is(err, store.ErrTokenExpired) || !errors.Is(err, store.ErrInvalidToken) {
		t.Fatalf("err = %v, want ErrTokenExpired", err)
	}
}

func testRedeemUnknown(t *testing.T, s store.Store) {
	_, err := s.RedeemJoinToken(t.Context(), [32]byte{9, 9}, base, func(store.JoinToken) (store.Certificate, error) {
		return store.Certificate{}, errors.New("unreachable")
	})
	if !errors.Is(err, store.ErrTokenNotFound) {
		t.Fatalf("err = %v, want ErrTokenNotFound", err)
	}
}

func testRedeemIssueFailure(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := token(t, s, 10*time.Minute)
	boom := errors.New("bad CSR")
	if _, err := s.RedeemJoinToken(ctx, h, base, func(store.JoinToken) (store.Certificate, error) {
		return store.Certificate{}, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the issue error", err)
	}
	if _, err := s.RedeemJoinToken(ctx, h, base, func(tok store.JoinToken) (store.Certificate, error) {
		return cert(t, tok.Service, base.Add(time.Hour)), nil
	}); err != nil {
		t.Fatalf("token was burnt by a failed issuance: %v", err)
	}
}

func testRedeemConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := token(t, s, 10*time.Minute)
	const n = 100
	var (
		wg        sync.WaitGroup
		ok, used  atomic.Int32
		other     atomic.Value
		start     = make(chan struct{})
		issueRuns atomic.Int32
	)
	for range n {
		wg.Go(func() {
			<-start
			_, err := s.RedeemJoinToken(ctx, h, base, func(tok store.JoinToken) (store.Certificate, error) {
				issueRuns.Add(1)
				return cert(t, tok.Service, base.Add(time.Hour)), nil
			})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrTokenUsed):
				used.Add(1)
			default:
				other.Store(err)
			}
		})
	}
	close(start)
	wg.Wait()
	if e := other.Load(); e != nil {
		t.Fatalf("unexpected error: %v", e)
	}
	if ok.Load() != 1 || used.Load() != n-1 {
		t.Fatalf("successes = %d, used = %d; want 1 and %d", ok.Load(), used.Load(), n-1)
	}
	certs, err := s.ListCertificates(ctx, store.Filter{Service: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(certs) != 1 {
		t.Fatalf("%d certificates stored, want exactly 1", len(certs))
	}
}

func testDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	old := token(t, s, time.Minute)
	fresh := token(t, s, time.Hour)
	n, err := s.DeleteExpiredJoinTokens(ctx, base.Add(2*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("deleted %d, want 1", n)
	}
	issue := func(tok store.JoinToken) (store.Certificate, error) {
		return cert(t, tok.Service, base.Add(time.Hour)), nil
	}
	if _, err := s.RedeemJoinToken(ctx, old, base, issue); !errors.Is(err, store.ErrTokenNotFound) {
		t.Fatalf("deleted token: err = %v", err)
	}
	if _, err := s.RedeemJoinToken(ctx, fresh, base.Add(2*time.Minute), issue); err != nil {
		t.Fatalf("fresh token: %v", err)
	}
}

func testCloseIdempotent(t *testing.T, s store.Store) {
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Certificate(context.Background(), big.NewInt(1)); err == nil {
		t.Fatal("store usable after Close")
	}
}
