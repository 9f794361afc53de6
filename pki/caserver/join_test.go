package caserver_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/bootstrap"
	"github.com/verdict-authz/verdict/pki/caapi"
	"github.com/verdict-authz/verdict/pki/caclient"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/renewal"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/store"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

func files(dir string) tlsconfig.Files {
	return tlsconfig.Files{Cert: filepath.Join(dir, "svc.pem"), Key: filepath.Join(dir, "svc-key.pem"), Bundle: filepath.Join(dir, "root.pem")}
}

func TestBootstrapPinsFingerprint(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tok, err := f.admin.CreateJoinToken(ctx, caapi.JoinTokenRequest{Service: "billing", Profile: "peer", Hosts: []string{"billing.internal"}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Identity != "spiffe://example.org/service/billing" || !strings.HasPrefix(tok.Token, "vjt_") {
		t.Fatalf("token = %+v", tok)
	}

	// Wrong fingerprint: refused during the handshake, nothing written, token
	// not consumed.
	wrongDir := t.TempDir()
	other := newFixture(t)
	_, _, err = bootstrap.Run(ctx, bootstrap.Config{CAURL: f.srv.URL(), Token: tok.Token,
		Fingerprint: other.srv.Fingerprint().String(), Files: files(wrongDir)})
	if !errors.Is(err, caclient.ErrFingerprintMismatch) {
		t.Fatalf("wrong fingerprint: err = %v, want ErrFingerprintMismatch", err)
	}
	if entries, _ := os.ReadDir(wrongDir); len(entries) != 0 {
		t.Fatalf("files written despite the wrong fingerprint: %v", entries)
	}

	// Right fingerprint, in openssl's colon form.
	dir := t.TempDir()
	fp := f.srv.Fingerprint().String()
	var colon []string
	for i := 0; i < len(fp); i += 2 {
		colon = append(colon, strings.ToUpper(fp[i:i+2]))
	}
	svid, bundle, err := bootstrap.Run(ctx, bootstrap.Config{CAURL: f.srv.URL(), Token: tok.Token,
		Fingerprint: strings.Join(colon, ":"), Files: files(dir), Hosts: []string{"billing.internal"}})
	if err != nil {
		t.Fatal(err)
	}
	if svid.ID != spiffeid.Must(td, "billing") || svid.Leaf().DNSNames[0] != "billing.internal" || !bundle.Contains(f.ca.Root()) {
		t.Fatalf("bootstrapped %v %v", svid.ID, svid.Leaf().DNSNames)
	}
	fi, err := os.Stat(files(dir).Key)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	loaded, err := x509svid.Load(files(dir).Cert, files(dir).Key)
	if err != nil || loaded.Leaf().SerialNumber.Cmp(svid.Leaf().SerialNumber) != 0 {
		t.Fatalf("written files do not load back: %v", err)
	}
	if b, err := x509bundle.Load(files(dir).Bundle); err != nil || !b.Equal(f.ca.Bundle()) {
		t.Fatalf("bundle file: %v", err)
	}

	// Single use.
	_, _, err = bootstrap.Run(ctx, bootstrap.Config{CAURL: f.srv.URL(), Token: tok.Token, Fingerprint: fp, Files: files(t.TempDir())})
	if !errors.Is(err, caclient.ErrInvalidToken) {
		t.Fatalf("reused token: err = %v, want ErrInvalidToken", err)
	}
	// Expired.
	tok2, err := f.admin.CreateJoinToken(ctx, caapi.JoinTokenRequest{Service: "billing", TTL: "1m"})
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Minute)
	_, _, err = bootstrap.Run(ctx, bootstrap.Config{CAURL: f.srv.URL(), Token: tok2.Token, Fingerprint: fp, Files: files(t.TempDir())})
	if !errors.Is(err, caclient.ErrInvalidToken) {
		t.Fatalf("expired token: err = %v, want ErrInvalidToken", err)
	}
}

// TestJoinConcurrentOverHTTP: 100 clients redeem one token through the API
// at once; exactly one gets a certificate.
func TestJoinConcurrentOverHTTP(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tok, err := f.admin.CreateJoinToken(ctx, caapi.JoinTokenRequest{Service: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	client, err := caclient.New(f.srv.URL(), caclient.WithFingerprint(f.srv.Fingerprint()))
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	csrs := make([][]byte, n)
	for i := range csrs {
		csrs[i] = newCSR(t, newKey(t), "")
	}
	var (
		wg            sync.WaitGroup
		start         = make(chan struct{})
		won, rejected atomic.Int32
		mu            sync.Mutex
		others        []error
	)
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := client.Join(ctx, tok.Token, csrs[i])
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, caclient.ErrInvalidToken):
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
		t.Fatalf("unexpected errors (%d): %v", len(others), others[0])
	}
	if won.Load() != 1 || rejected.Load() != n-1 {
		t.Fatalf("%d certificates, %d rejected; want 1 and %d", won.Load(), rejected.Load(), n-1)
	}
	recs, err := f.ca.Store().ListCertificates(ctx, store.Filter{Service: "billing"})
	if err != nil || len(recs) != 1 {
		t.Fatalf("%d certificates stored (%v), want 1", len(recs), err)
	}
}

// TestRenewalOverMTLS bootstraps a workload and lets a Renewer renew it three
// times through the CA server, authenticated by the current certificate,
// with time driven by a fake clock.
func TestRenewalOverMTLS(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	tok, err := f.admin.CreateJoinToken(ctx, caapi.JoinTokenRequest{Service: "billing", Lifetime: "30m"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	svid, bundle, err := bootstrap.Run(ctx, bootstrap.Config{CAURL: f.srv.URL(), Token: tok.Token,
		Fingerprint: f.srv.Fingerprint().String(), Files: files(dir)})
	if err != nil {
		t.Fatal(err)
	}
	src, err := tlsconfig.NewSource(svid, bundle)
	if err != nil {
		t.Fatal(err)
	}
	client, err := caclient.New(f.srv.URL(), caclient.WithSource(src, tlsconfig.WithClock(f.clock.Now), tlsconfig.WithLogger(quiet())))
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan renewal.Event, 8)
	r, err := renewal.New(ctx, src, client, renewal.WithClock(f.clock), renewal.WithJitter(0),
		renewal.WithNotify(func(ev renewal.Event) { events <- ev }), renewal.WithFiles(files(dir)), renewal.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	prev := svid
	for round := range 3 {
		leaf := prev.Leaf()
		life := leaf.NotAfter.Sub(leaf.NotBefore)
		want := leaf.NotBefore.Add(life * 2 / 3)
		if got := r.NextRenewal(); !got.Equal(want) {
			t.Fatalf("round %d: next renewal %s, want %s (2/3 of lifetime)", round, got, want)
		}
		f.clock.WaitForWaiters(t, 1)
		f.clock.Advance(want.Sub(f.clock.Now()) - time.Second)
		select {
		case ev := <-events:
			t.Fatalf("round %d: renewed early: %+v", round, ev)
		case <-time.After(50 * time.Millisecond):
		}
		f.clock.Advance(time.Second)
		var ev renewal.Event
		select {
		case ev = <-events:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: no renewal", round)
		}
		if ev.Err != nil {
			t.Fatalf("round %d: %v", round, ev.Err)
		}
		next := ev.SVID
		if next.ID != prev.ID || next.Leaf().SerialNumber.Cmp(leaf.SerialNumber) == 0 {
			t.Fatalf("round %d: renewed %v serial %x", round, next.ID, next.Leaf().SerialNumber)
		}
		if keyfile.MatchesPublic(next.PrivateKey, prev.PrivateKey.Public()) {
			t.Fatalf("round %d: key was not rotated", round)
		}
		if src.SVID() != next {
			t.Fatalf("round %d: source not updated", round)
		}
		if got := next.Leaf().NotAfter.Sub(f.clock.Now()); got != 30*time.Minute {
			t.Fatalf("round %d: renewed lifetime %s, want 30m", round, got)
		}
		onDisk, err := x509svid.Load(files(dir).Cert, files(dir).Key)
		if err != nil || onDisk.Leaf().SerialNumber.Cmp(next.Leaf().SerialNumber) != 0 {
			t.Fatalf("round %d: renewed files not written: %v", round, err)
		}
		prev = next
	}

	// Once revoked, renewal fails and is retried with backoff.
	if err := f.admin.Revoke(ctx, prev.Leaf().SerialNumber, "superseded"); err != nil {
		t.Fatal(err)
	}
	f.clock.WaitForWaiters(t, 1)
	f.clock.Advance(r.NextRenewal().Sub(f.clock.Now()))
	select {
	case ev := <-events:
		if ev.Err == nil || ev.SVID != nil || !ev.Next.After(f.clock.Now()) {
			t.Fatalf("renewal of a revoked certificate: %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no failure event")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
