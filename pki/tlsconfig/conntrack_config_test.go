package tlsconfig_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

// TestConnTrackerServerConfig: a server that wraps connections in TLS
// itself (http.Server.ServeTLS) gets its connections of a revoked client
// closed through the tracker's ServerConfig, and the client cannot come
// back; another client's connection stays open.
func TestConnTrackerServerConfig(t *testing.T) {
	e := newEnv(t)
	server := e.source(t, "api")
	orders, billing := e.source(t, "orders"), e.source(t, "billing")
	tracker := tlsconfig.NewConnTracker(e.ca.Revocations(), tlsconfig.WithLogger(slogDiscard()))
	defer tracker.Close()
	cfg := tracker.ServerConfig(tlsconfig.ServerConfig(server, tlsconfig.WithRevocationChecker(e.ca.Revocations()),
		tlsconfig.WithLogger(slogDiscard())))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{TLSConfig: cfg, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })}
	go func() { _ = hs.ServeTLS(ln, "", "") }()
	defer hs.Close()

	client := func(src *tlsconfig.Source) *http.Client {
		tr := &http.Transport{TLSClientConfig: tlsconfig.ClientConfig(src, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeMemberOf(td)),
			tlsconfig.WithLogger(slogDiscard()))}
		return &http.Client{Transport: tr, Timeout: 5 * time.Second}
	}
	get := func(c *http.Client) error {
		resp, err := c.Get("https://" + ln.Addr().String() + "/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, err = io.ReadAll(resp.Body)
		return err
	}
	oc, bc := client(orders), client(billing)
	for _, c := range []*http.Client{oc, bc} {
		if err := get(c); err != nil {
			t.Fatal(err)
		}
	}
	if n := tracker.Len(); n != 2 {
		t.Fatalf("tracked %d connections, want 2", n)
	}
	// Watch the raw kept-alive connection of orders being closed: dial our
	// own to observe the server side's behaviour.
	raw, err := tls.Dial("tcp", ln.Addr().String(), tlsconfig.ClientConfig(orders, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeMemberOf(td)),
		tlsconfig.WithLogger(slogDiscard())))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := e.ca.Revoke(context.Background(), ca.RevokeRequest{Caller: admin, Serial: orders.SVID().Leaf().SerialNumber}); err != nil {
		t.Fatal(err)
	}
	_ = raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := raw.Read(make([]byte, 1)); err == nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		t.Fatalf("the revoked client's open connection was not closed: %v", err)
	}
	if err := get(oc); err == nil {
		t.Fatal("the revoked client got an answer")
	}
	if err := get(bc); err != nil {
		t.Fatalf("the other client was cut off: %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
