package tlsconfig_test

import (
	"crypto/tls"
	"errors"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

func TestHandshakeOutcomes(t *testing.T) {
	e := newEnv(t)
	other := newEnv(t)
	billing := spiffeid.Must(td, "billing")

	type tc struct {
		name string
		// setup returns server and client configs; logs go to the recorders.
		setup func(t *testing.T, slog, clog *logRecorder) (*tls.Config, *tls.Config)
		// which side refuses, and why (nil: handshake succeeds).
		serverReason, clientReason error
	}
	serverCfg := func(slog *logRecorder, opts ...tlsconfig.Option) *tls.Config {
		src := e.source(t, "billing")
		return tlsconfig.ServerConfig(src, append([]tlsconfig.Option{
			tlsconfig.WithLogger(slog.logger()), tlsconfig.WithClock(e.clock.Now),
			tlsconfig.WithAuthorizer(tlsconfig.AuthorizeMemberOf(td)), tlsconfig.WithRevocationChecker(e.ca.Revocations()),
		}, opts...)...)
	}
	clientCfg := func(clog *logRecorder, src *tlsconfig.Source, opts ...tlsconfig.Option) *tls.Config {
		return tlsconfig.ClientConfig(src, append([]tlsconfig.Option{
			tlsconfig.WithLogger(clog.logger()), tlsconfig.WithClock(e.clock.Now),
			tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(billing)),
		}, opts...)...)
	}
	cases := []tc{
		{name: "ok", setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			return serverCfg(s), clientCfg(c, e.source(t, "orders"))
		}},
		{name: "client from another CA", serverReason: tlsconfig.ErrUntrusted, setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			src, err := tlsconfig.NewSource(other.svid(t, "orders", ca.ProfilePeer, 0), e.ca.Bundle())
			if err != nil {
				t.Fatal(err)
			}
			return serverCfg(s), clientCfg(c, src)
		}},
		{name: "server from another CA", clientReason: tlsconfig.ErrUntrusted, setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			src, err := tlsconfig.NewSource(e.svid(t, "orders", ca.ProfilePeer, 0), other.ca.Bundle())
			if err != nil {
				t.Fatal(err)
			}
			return serverCfg(s), clientCfg(c, src)
		}},
		{name: "client expired", serverReason: tlsconfig.ErrExpired, setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			src, err := tlsconfig.NewSource(e.svid(t, "orders", ca.ProfilePeer, time.Minute), e.ca.Bundle())
			if err != nil {
				t.Fatal(err)
			}
			// The server's clock is past the client's NotAfter; the client
			// (real clock) still accepts the server.
			sc := serverCfg(s, tlsconfig.WithClock(func() time.Time { return e.clock.Now().Add(2 * time.Minute) }))
			return sc, tlsconfig.ClientConfig(src, tlsconfig.WithLogger(c.logger()), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(billing)))
		}},
		{name: "wrong server identity", clientReason: tlsconfig.ErrWrongIdentity, setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			return serverCfg(s), clientCfg(c, e.source(t, "orders"), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(td, "payments"))))
		}},
		{name: "wrong client identity", serverReason: tlsconfig.ErrWrongIdentity, setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			sc := serverCfg(s, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(td, "pap"))))
			return sc, clientCfg(c, e.source(t, "orders"))
		}},
		{name: "client revoked", serverReason: tlsconfig.ErrRevoked, setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			src := e.source(t, "orders")
			if err := e.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: src.SVID().Leaf().SerialNumber}); err != nil {
				t.Fatal(err)
			}
			return serverCfg(s), clientCfg(c, src)
		}},
		{name: "server revoked", clientReason: tlsconfig.ErrRevoked, setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			ssrc := e.source(t, "billing")
			if err := e.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: ssrc.SVID().Leaf().SerialNumber}); err != nil {
				t.Fatal(err)
			}
			sc := tlsconfig.ServerConfig(ssrc, tlsconfig.WithLogger(s.logger()))
			return sc, clientCfg(c, e.source(t, "orders"), tlsconfig.WithRevocationChecker(e.ca.Revocations()))
		}},
		{name: "no client certificate", serverReason: tlsconfig.ErrNoCertificate, setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			return serverCfg(s), &tls.Config{InsecureSkipVerify: true}
		}},
		{name: "server name fallback", setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			// No authorizer: the client checks the server name against DNS SANs.
			cc := tlsconfig.ClientConfig(e.source(t, "orders"), tlsconfig.WithLogger(c.logger()))
			cc.ServerName = "localhost"
			return serverCfg(s), cc
		}},
		{name: "server dialed by IP without authorizer", clientReason: tlsconfig.ErrWrongIdentity, setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			return serverCfg(s), tlsconfig.ClientConfig(e.source(t, "orders"), tlsconfig.WithLogger(c.logger()))
		}},
		{name: "server name mismatch", clientReason: tlsconfig.ErrWrongIdentity, setup: func(t *testing.T, s, c *logRecorder) (*tls.Config, *tls.Config) {
			cc := tlsconfig.ClientConfig(e.source(t, "orders"), tlsconfig.WithLogger(c.logger()))
			cc.ServerName = "billing.other.example"
			return serverCfg(s), cc
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			slog, clog := &logRecorder{}, &logRecorder{}
			sc, cc := tc.setup(t, slog, clog)
			cs, serr, cerr := handshake(t, sc, cc)
			switch {
			case tc.serverReason == nil && tc.clientReason == nil:
				if serr != nil || cerr != nil {
					t.Fatalf("server err %v, client err %v", serr, cerr)
				}
				id, err := spiffeid.FromConnectionState(&cs)
				if err != nil || id != billing {
					t.Fatalf("client sees server %v (%v)", id, err)
				}
			case tc.serverReason != nil:
				if !errors.Is(serr, tc.serverReason) {
					t.Fatalf("server err = %v, want %v", serr, tc.serverReason)
				}
				var pe *tlsconfig.PeerError
				if !errors.As(serr, &pe) || pe.Side != "server" {
					t.Fatalf("server err is not a server-side *PeerError: %#v", serr)
				}
				if _, ok := tlsconfig.RemoteRejection(cerr); !ok {
					t.Fatalf("client err = %v, want a remote TLS alert", cerr)
				}
				slog.waitFor(t, "tls: refused peer certificate", map[string]string{"side": "server"})
			default:
				if !errors.Is(cerr, tc.clientReason) {
					t.Fatalf("client err = %v, want %v", cerr, tc.clientReason)
				}
				if _, ok := tlsconfig.RemoteRejection(serr); !ok {
					t.Fatalf("server err = %v, want a remote TLS alert", serr)
				}
				clog.waitFor(t, "tls: refused peer certificate", map[string]string{"side": "client"})
			}
		})
	}
}

// TestResumedSessionRechecked shows that VerifyConnection runs on resumed
// sessions: a client whose certificate is revoked after its first
// connection cannot come back with its session ticket.
func TestResumedSessionRechecked(t *testing.T) {
	e := newEnv(t)
	ssrc, csrc := e.source(t, "billing"), e.source(t, "orders")
	sc := tlsconfig.ServerConfig(ssrc, tlsconfig.WithRevocationChecker(e.ca.Revocations()), tlsconfig.WithLogger(slogDiscard()))
	cc := tlsconfig.ClientConfig(csrc, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(td, "billing"))))
	cc.ClientSessionCache = tls.NewLRUClientSessionCache(4)

	if _, serr, cerr := handshake(t, sc, cc); serr != nil || cerr != nil {
		t.Fatalf("first: %v %v", serr, cerr)
	}
	cs, serr, cerr := handshake(t, sc, cc)
	if serr != nil || cerr != nil {
		t.Fatalf("second: %v %v", serr, cerr)
	}
	if !cs.DidResume {
		t.Fatal("second connection did not resume; the test would prove nothing")
	}
	if err := e.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: csrc.SVID().Leaf().SerialNumber}); err != nil {
		t.Fatal(err)
	}
	_, serr, _ = handshake(t, sc, cc)
	if !errors.Is(serr, tlsconfig.ErrRevoked) {
		t.Fatalf("resumed after revocation: server err = %v, want ErrRevoked", serr)
	}
}

func TestOptionalClientCert(t *testing.T) {
	e := newEnv(t)
	other := newEnv(t)
	sc := tlsconfig.ServerConfig(e.source(t, "ca"), tlsconfig.WithOptionalClientCert(), tlsconfig.WithLogger(slogDiscard()))
	if _, serr, cerr := handshake(t, sc, &tls.Config{InsecureSkipVerify: true}); serr != nil || cerr != nil {
		t.Fatalf("no certificate refused: %v %v", serr, cerr)
	}
	src, err := tlsconfig.NewSource(other.svid(t, "x", ca.ProfilePeer, 0), e.ca.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	cc := tlsconfig.ClientConfig(src, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeAny()), tlsconfig.WithLogger(slogDiscard()))
	if _, serr, _ := handshake(t, sc, cc); !errors.Is(serr, tlsconfig.ErrUntrusted) {
		t.Fatalf("untrusted optional certificate: err = %v", serr)
	}
}

func TestClientProfileCannotServe(t *testing.T) {
	e := newEnv(t)
	src, err := tlsconfig.NewSource(e.svid(t, "cli", ca.ProfileClient, 0), e.ca.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	sc := tlsconfig.ServerConfig(src, tlsconfig.WithLogger(slogDiscard()))
	cc := tlsconfig.ClientConfig(e.source(t, "orders"), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeAny()), tlsconfig.WithLogger(slogDiscard()))
	if _, _, cerr := handshake(t, sc, cc); !errors.Is(cerr, tlsconfig.ErrUntrusted) {
		t.Fatalf("client-profile server: err = %v, want ErrUntrusted (key usage)", cerr)
	}
}
