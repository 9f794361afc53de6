package server_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/integration/mtlstest"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// TestHandshakeFailuresLogged: a handshake with an untrusted, expired,
// wrong-identity or revoked certificate fails, over HTTP and gRPC, with a
// line on both sides. The side that refuses logs "tls: refused peer
// certificate" naming the peer, its serial and the reason; the refused
// side's error names the reason (its own PeerError, or the peer's "bad
// certificate" alert, which is all TLS carries) and it logs "tls: peer
// refused our certificate" with a hint.
func TestHandshakeFailuresLogged(t *testing.T) {
	authority, other := mtlstest.NewCA(t), mtlstest.NewCA(t)
	// The PDP accepts only the "orders" service, so that another
	// service's certificate is a wrong identity.
	p := startMTLS(t, authority, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(mtlstest.ID("orders"))))
	revoked := authority.SVID(t, "orders", 0)
	p.revoke(revoked)

	type side struct {
		reason string // the refusing side's reason label
		err    error  // the client's error, when the client refuses
	}
	cases := []struct {
		name     string
		src      func(t *testing.T) *tlsconfig.Source
		expected spiffeid.ID // the identity the client expects of the PDP
		server   *side       // the PDP refuses the client
		client   *side       // the client refuses the PDP
		hint     string      // in the refused client's line
	}{
		{name: "untrusted client", server: &side{reason: "untrusted"}, src: func(t *testing.T) *tlsconfig.Source {
			src, err := tlsconfig.NewSource(other.SVID(t, "orders", 0), authority.Bundle())
			if err != nil {
				t.Fatal(err)
			}
			return src
		}},
		{name: "expired client", server: &side{reason: "expired"}, hint: "expired", src: func(t *testing.T) *tlsconfig.Source {
			return authority.SourceOf(t, authority.ExpiredSVID(t, "orders"))
		}},
		{name: "wrong client identity", server: &side{reason: "wrong_identity"}, src: func(t *testing.T) *tlsconfig.Source {
			return authority.Source(t, "intruder")
		}},
		{name: "revoked client", server: &side{reason: "revoked"}, src: func(t *testing.T) *tlsconfig.Source {
			return authority.SourceOf(t, revoked)
		}},
		{name: "untrusted server", client: &side{reason: "untrusted", err: tlsconfig.ErrUntrusted}, src: func(t *testing.T) *tlsconfig.Source {
			src, err := tlsconfig.NewSource(authority.SVID(t, "orders", 0), other.Bundle())
			if err != nil {
				t.Fatal(err)
			}
			return src
		}},
		{name: "wrong server identity", expected: mtlstest.ID("pap"), client: &side{reason: "wrong_identity", err: tlsconfig.ErrWrongIdentity},
			src: func(t *testing.T) *tlsconfig.Source { return authority.Source(t, "orders") }},
	}
	for _, tc := range cases {
		for _, transport := range []string{"http", "grpc"} {
			t.Run(tc.name+"/"+transport, func(t *testing.T) {
				src := tc.src(t)
				serial := mtlstest.Serial(src.SVID())
				expected := pdpID
				if !tc.expected.IsZero() {
					expected = tc.expected
				}
				clientLogs := &mtlstest.Logs{}
				// The PDP's log is shared by the subtests: each waits for a
				// line of its own.
				refusedBefore := len(p.logs.Find("tls: refused peer certificate", nil))
				rejectedBefore := len(p.logs.Find("tls: peer refused our certificate", nil))
				opts := []tlsconfig.Option{tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(expected)), tlsconfig.WithLogger(clientLogs.Logger())}
				var err error
				if transport == "http" {
					hc := tlsconfig.HTTPClient(src, opts...)
					defer hc.CloseIdleConnections()
					req := newPost(t, p.base+"/access/v1/evaluation", evaluationBody).WithContext(t.Context())
					var resp *http.Response
					if resp, err = hc.Do(req); err == nil {
						resp.Body.Close()
					}
				} else {
					cc := dialMTLS(t, p.grpcAddr, tlsconfig.ClientConfig(src, opts...))
					err = grpcEvaluate(context.WithoutCancel(t.Context()), verdictv1.NewDecisionServiceClient(cc))
				}
				if err == nil {
					t.Fatal("the handshake succeeded")
				}
				if tc.server != nil {
					p.logs.WaitForNew(t, refusedBefore, "tls: refused peer certificate", map[string]string{
						"side": "server", "reason": tc.server.reason, "serial": serial, "peer": "127.0.0.1:"})
					if transport == "http" {
						line := clientLogs.WaitFor(t, "tls: peer refused our certificate", map[string]string{
							"side": "client", "alert": "bad certificate", "our_serial": serial})
						if !strings.Contains(line.Attrs["hint"], tc.hint) {
							t.Errorf("client hint %q does not mention %q", line.Attrs["hint"], tc.hint)
						}
					} else if !strings.Contains(err.Error(), "bad certificate") {
						t.Errorf("client error %q does not carry the server's alert", err)
					}
					return
				}
				if transport == "http" && !errors.Is(err, tc.client.err) {
					t.Errorf("client error = %v, want %v", err, tc.client.err)
				}
				if !strings.Contains(err.Error(), tc.client.err.Error()) {
					t.Errorf("client error %q does not name the reason %q", err, tc.client.err)
				}
				clientLogs.WaitFor(t, "tls: refused peer certificate", map[string]string{
					"side": "client", "reason": tc.client.reason, "peer_id": "spiffe://example.org/service/pdp"})
				p.logs.WaitForNew(t, rejectedBefore, "tls: peer refused our certificate", map[string]string{"side": "server", "alert": "bad certificate"})
			})
		}
	}
}
