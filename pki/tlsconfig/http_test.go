package tlsconfig_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

// whoami answers with the caller's identity, as a PEP would derive it.
func whoami(w http.ResponseWriter, r *http.Request) {
	id, err := spiffeid.FromConnectionState(r.TLS)
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	fmt.Fprint(w, id.String())
}

// server is a real HTTPS server on loopback.
type server struct{ URL string }

func startServer(t *testing.T, src *tlsconfig.Source, log *logRecorder, opts ...tlsconfig.Option) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := tlsconfig.ServerConfig(src, append([]tlsconfig.Option{tlsconfig.WithLogger(log.logger())}, opts...)...)
	srv := &http.Server{Handler: http.HandlerFunc(whoami), ErrorLog: tlsconfig.ServerErrorLog(t.Context(), log.logger(), src)}
	go func() { _ = srv.Serve(tlsconfig.Listener(ln, cfg)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &server{URL: "https://" + ln.Addr().String()}
}

func get(ctx context.Context, c *http.Client, url string) (string, *http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", resp, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	return string(b), resp, err
}

// TestBothSidesLog checks the "clear log line on both sides" requirement over
// HTTP: the refusing side names the reason, the refused side says the peer
// refused its certificate.
func TestBothSidesLog(t *testing.T) {
	e := newEnv(t)
	billing := spiffeid.Must(td, "billing")

	t.Run("server refuses revoked client", func(t *testing.T) {
		slog, clog := &logRecorder{}, &logRecorder{}
		srv := startServer(t, e.source(t, "billing"), slog, tlsconfig.WithRevocationChecker(e.ca.Revocations()))
		csrc := e.source(t, "orders")
		if err := e.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: csrc.SVID().Leaf().SerialNumber}); err != nil {
			t.Fatal(err)
		}
		client := tlsconfig.HTTPClient(csrc, tlsconfig.WithLogger(clog.logger()), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(billing)))
		if _, _, err := get(t.Context(), client, srv.URL); err == nil {
			t.Fatal("revoked client got through")
		}
		slog.waitFor(t, "tls: refused peer certificate", map[string]string{"side": "server", "reason": "revoked", "peer_id": "spiffe://example.org/service/orders"})
		clog.waitFor(t, "tls: peer refused our certificate", map[string]string{"side": "client", "our_id": "spiffe://example.org/service/orders"})
	})

	t.Run("client refuses wrong server identity", func(t *testing.T) {
		slog, clog := &logRecorder{}, &logRecorder{}
		srv := startServer(t, e.source(t, "billing"), slog)
		client := tlsconfig.HTTPClient(e.source(t, "orders"), tlsconfig.WithLogger(clog.logger()),
			tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(td, "payments"))))
		_, _, err := get(t.Context(), client, srv.URL)
		if !errors.Is(err, tlsconfig.ErrWrongIdentity) {
			t.Fatalf("err = %v, want ErrWrongIdentity", err)
		}
		clog.waitFor(t, "tls: refused peer certificate", map[string]string{"side": "client", "reason": "wrong_identity", "peer_id": billing.String()})
		slog.waitFor(t, "tls: peer refused our certificate", map[string]string{"side": "server", "our_id": billing.String()})
	})

	t.Run("expired client names the cause", func(t *testing.T) {
		slog, clog := &logRecorder{}, &logRecorder{}
		// Both sides' clocks say the client certificate expired.
		late := func() time.Time { return time.Now().Add(3 * time.Minute) }
		srv := startServer(t, e.source(t, "billing"), slog, tlsconfig.WithClock(late))
		src, err := tlsconfig.NewSource(e.svid(t, "orders", ca.ProfilePeer, time.Minute), e.ca.Bundle())
		if err != nil {
			t.Fatal(err)
		}
		client := tlsconfig.HTTPClient(src, tlsconfig.WithLogger(clog.logger()), tlsconfig.WithClock(late),
			tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(billing)))
		if _, _, err := get(t.Context(), client, srv.URL); err == nil {
			t.Fatal("expired client got through")
		}
		slog.waitFor(t, "tls: refused peer certificate", map[string]string{"reason": "expired"})
		clog.waitFor(t, "tls: peer refused our certificate", map[string]string{"hint": "our certificate has expired; is renewal running?"})
	})
}

// TestHotReload is the rotation acceptance test: 10 rotations of the server
// and client certificates while a client loops requests, with zero failures
// and without restarting the server.
func TestHotReload(t *testing.T) {
	e := newEnv(t)
	billing := spiffeid.Must(td, "billing")
	ssrc, csrc := e.source(t, "billing"), e.source(t, "orders")
	log := &logRecorder{}
	srv := startServer(t, ssrc, log, tlsconfig.WithRevocationChecker(e.ca.Revocations()))
	client := tlsconfig.HTTPClient(csrc, tlsconfig.WithLogger(log.logger()), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(billing)),
		tlsconfig.WithRevocationChecker(e.ca.Revocations()))

	var (
		ok, failed atomic.Int64
		mu         sync.Mutex
		firstErr   error
		seen       = map[string]bool{}
		stop       = make(chan struct{})
		done       = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			body, resp, err := get(t.Context(), client, srv.URL)
			if err != nil || body != "spiffe://example.org/service/orders" {
				failed.Add(1)
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("request %d: %q %v", i, body, err)
				}
				mu.Unlock()
				continue
			}
			ok.Add(1)
			mu.Lock()
			seen[resp.TLS.PeerCertificates[0].SerialNumber.Text(16)] = true
			mu.Unlock()
			if i%5 == 0 {
				// Force fresh handshakes so rotations are actually exercised.
				client.CloseIdleConnections()
			}
		}
	}()
	// Rotate only after the client made progress, so that every rotation
	// happens between requests however slow the machine is.
	waitProgress := func(n int64) {
		target := ok.Load() + failed.Load() + n
		deadline := time.Now().Add(30 * time.Second)
		for ok.Load()+failed.Load() < target {
			if time.Now().After(deadline) {
				t.Fatal("client made no progress")
			}
			time.Sleep(time.Millisecond)
		}
	}
	serials := []*big.Int{ssrc.SVID().Leaf().SerialNumber}
	for range 10 {
		waitProgress(5)
		ssrc.Set(e.svid(t, "billing", ca.ProfilePeer, 0), nil)
		csrc.Set(e.svid(t, "orders", ca.ProfilePeer, 0), nil)
		serials = append(serials, ssrc.SVID().Leaf().SerialNumber)
	}
	waitProgress(5)
	close(stop)
	<-done
	client.CloseIdleConnections()
	if _, resp, err := get(t.Context(), client, srv.URL); err != nil {
		t.Fatalf("after rotations: %v", err)
	} else {
		seen[resp.TLS.PeerCertificates[0].SerialNumber.Text(16)] = true
	}
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed; first: %v", failed.Load(), failed.Load()+ok.Load(), firstErr)
	}
	if ok.Load() < 20 {
		t.Fatalf("only %d requests ran", ok.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if !seen[serials[len(serials)-1].Text(16)] || len(seen) < 3 {
		t.Fatalf("client saw %d server certificates (last rotation seen: %v); rotations not picked up", len(seen), seen[serials[len(serials)-1].Text(16)])
	}
	t.Logf("%d requests, 0 failures, %d server certificates seen across 10 rotations", ok.Load(), len(seen))
}

// TestBundleRotation swaps the trust bundle of a running server so that it
// accepts clients of a new CA.
func TestBundleRotation(t *testing.T) {
	oldCA, newCA := newEnv(t), newEnv(t)
	billing := spiffeid.Must(td, "billing")
	ssrc := oldCA.source(t, "billing")
	srv := startServer(t, ssrc, &logRecorder{})
	csrc, err := tlsconfig.NewSource(newCA.svid(t, "orders", ca.ProfilePeer, 0), bundleOf(t, oldCA.ca, newCA.ca))
	if err != nil {
		t.Fatal(err)
	}
	client := tlsconfig.HTTPClient(csrc, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(billing)), tlsconfig.WithLogger(slogDiscard()))
	if _, _, err := get(t.Context(), client, srv.URL); err == nil {
		t.Fatal("client of the new CA accepted before the bundle rotation")
	}
	ssrc.Set(nil, bundleOf(t, oldCA.ca, newCA.ca))
	client.CloseIdleConnections()
	if _, _, err := get(t.Context(), client, srv.URL); err != nil {
		t.Fatalf("after bundle rotation: %v", err)
	}
}
