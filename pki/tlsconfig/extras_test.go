package tlsconfig_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/ocspresponder"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

func TestCheckLoopback(t *testing.T) {
	for _, ok := range []string{"127.0.0.1:0", "localhost:8080", "[::1]:9000", "127.1.2.3:1", "LOCALHOST:1", "::1"} {
		if err := tlsconfig.CheckLoopback(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{":8080", "0.0.0.0:80", "[::]:80", "10.0.0.1:80", "example.com:80", "localhost.evil.com:1", ""} {
		if err := tlsconfig.CheckLoopback(bad); !errors.Is(err, tlsconfig.ErrNotLoopback) {
			t.Errorf("%q accepted (err %v)", bad, err)
		}
	}
	if _, err := tlsconfig.ListenPlaintext(t.Context(), slogDiscard(), "tcp", "0.0.0.0:0"); !errors.Is(err, tlsconfig.ErrNotLoopback) {
		t.Fatalf("plaintext on all interfaces: err = %v", err)
	}
	ln, err := tlsconfig.ListenPlaintext(t.Context(), slogDiscard(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err := tlsconfig.DialPlaintext(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := tlsconfig.DialPlaintext(t.Context(), "tcp", "192.0.2.1:80"); !errors.Is(err, tlsconfig.ErrNotLoopback) {
		t.Fatalf("plaintext dial to non-loopback: err = %v", err)
	}
}

// TestConnTrackerClosesRevoked shows that a connection established before a
// revocation is cut off when the revocation arrives.
func TestConnTrackerClosesRevoked(t *testing.T) {
	e := newEnv(t)
	ssrc, csrc := e.source(t, "billing"), e.source(t, "orders")
	tracker := tlsconfig.NewConnTracker(e.ca.Revocations(), tlsconfig.WithLogger(slogDiscard()))
	defer tracker.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{}, 16)
	srv := &http.Server{
		Handler: http.HandlerFunc(whoami),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateClosed {
				closed <- struct{}{}
			}
		},
	}
	go func() {
		_ = srv.Serve(tracker.Listener(ln, tlsconfig.ServerConfig(ssrc,
			tlsconfig.WithRevocationChecker(e.ca.Revocations()), tlsconfig.WithLogger(slogDiscard()))))
	}()
	defer srv.Close()
	client := tlsconfig.HTTPClient(csrc, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(td, "billing"))), tlsconfig.WithLogger(slogDiscard()))
	url := "https://" + ln.Addr().String()
	if _, _, err := get(t.Context(), client, url); err != nil {
		t.Fatal(err)
	}
	if tracker.Len() != 1 {
		t.Fatalf("tracking %d connections, want 1", tracker.Len())
	}
	if err := e.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: csrc.SVID().Leaf().SerialNumber}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("live connection of the revoked client was not closed")
	}
	if _, _, err := get(t.Context(), client, url); err == nil {
		t.Fatal("revoked client reconnected")
	}
}

// localFetcher asks the CA's responder directly, as a server colocated with
// the CA would.
type localFetcher struct{ r *ocspresponder.Responder }

func (f localFetcher) FetchOCSP(ctx context.Context, leaf, issuer *x509.Certificate) ([]byte, error) {
	req, err := ocsp.CreateRequest(leaf, issuer, nil)
	if err != nil {
		return nil, err
	}
	return f.r.Respond(ctx, req)
}

func TestOCSPStapling(t *testing.T) {
	e := newEnv(t)
	ssrc := e.source(t, "billing")
	stapler := tlsconfig.NewStapler(t.Context(), ssrc, localFetcher{e.ca.OCSPResponder()}, tlsconfig.WithLogger(slogDiscard()))
	defer stapler.Close()
	if len(ssrc.Certificate().OCSPStaple) == 0 {
		t.Fatal("no staple after NewStapler")
	}
	sc := tlsconfig.ServerConfig(ssrc, tlsconfig.WithLogger(slogDiscard()))
	cc := tlsconfig.ClientConfig(e.source(t, "orders"), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(td, "billing"))), tlsconfig.WithLogger(slogDiscard()))
	cs, serr, cerr := handshake(t, sc, cc)
	if serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	resp, err := ocsp.ParseResponseForCert(cs.OCSPResponse, ssrc.SVID().Leaf(), e.ca.Issuer())
	if err != nil || resp.Status != ocsp.Good {
		t.Fatalf("stapled response: %+v %v", resp, err)
	}
	// A renewal replaces the certificate; the stapler follows it.
	ssrc.Set(e.svid(t, "billing", ca.ProfilePeer, 0), nil)
	deadline := time.Now().Add(5 * time.Second)
	for {
		staple := ssrc.Certificate().OCSPStaple
		if len(staple) > 0 {
			if r, err := ocsp.ParseResponseForCert(staple, ssrc.SVID().Leaf(), e.ca.Issuer()); err == nil && r.Status == ocsp.Good {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("stapler did not staple the renewed certificate")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A stapled "revoked" response makes clients refuse the server even
	// without a revocation checker of their own.
	if err := e.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: ssrc.SVID().Leaf().SerialNumber}); err != nil {
		t.Fatal(err)
	}
	staple, err := localFetcher{e.ca.OCSPResponder()}.FetchOCSP(t.Context(), ssrc.SVID().Leaf(), e.ca.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	if !ssrc.SetOCSPStaple(ssrc.SVID().Leaf().SerialNumber, staple) {
		t.Fatal("staple refused for the current certificate")
	}
	if _, _, cerr := handshake(t, sc, cc); !errors.Is(cerr, tlsconfig.ErrRevoked) {
		t.Fatalf("revoked staple: client err = %v, want ErrRevoked", cerr)
	}
}

func TestWatchFiles(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	files := tlsconfig.Files{Cert: filepath.Join(dir, "svc.pem"), Key: filepath.Join(dir, "svc-key.pem"), Bundle: filepath.Join(dir, "root.pem")}
	first := e.svid(t, "billing", ca.ProfilePeer, 0)
	if err := first.WriteFiles(files.Cert, files.Key); err != nil {
		t.Fatal(err)
	}
	if err := e.ca.Bundle().WriteFile(files.Bundle); err != nil {
		t.Fatal(err)
	}
	src, err := tlsconfig.LoadFiles(files)
	if err != nil {
		t.Fatal(err)
	}
	w, err := tlsconfig.Watch(t.Context(), src, files, tlsconfig.WithPollInterval(10*time.Millisecond), tlsconfig.WithLogger(slogDiscard()))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	changed := src.Changed()
	// A torn write (certificate without its key) is ignored.
	second := e.svid(t, "billing", ca.ProfilePeer, 0)
	certPEM, _, err := second.MarshalPEM()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files.Cert, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if src.SVID().Leaf().SerialNumber.Cmp(first.Leaf().SerialNumber) != 0 {
		t.Fatal("mismatched certificate and key were loaded")
	}
	if err := second.WriteFiles(files.Cert, files.Key); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("file change not picked up")
	}
	if src.SVID().Leaf().SerialNumber.Cmp(second.Leaf().SerialNumber) != 0 {
		t.Fatal("source does not hold the new certificate")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
