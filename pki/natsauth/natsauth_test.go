package natsauth

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/url"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/verdict-authz/verdict/pki/spiffeid"
)

func allowed(list []string, subject string) bool {
	for _, f := range list {
		if natsserver.SubjectMatchesFilter(subject, f) {
			return true
		}
	}
	return false
}

// TestWorkloadPermissions: a service's PDP reaches its own bundle subject,
// the key set and its own reports, and nothing of another service.
func TestWorkloadPermissions(t *testing.T) {
	p := Permissions(spiffeid.Must("example.org", "orders"), Layout{})
	for _, f := range append(p.Publish.Allow, p.Subscribe.Allow...) {
		if !natsserver.IsValidSubject(f) {
			t.Errorf("invalid subject filter %q", f)
		}
	}
	pub := map[string]bool{
		"$JS.API.CONSUMER.CREATE.VERDICT_BUNDLES.abc.verdict.bundle.orders":      true,
		"$JS.API.CONSUMER.CREATE.VERDICT_BUNDLES.abc.verdict.keys":               true,
		"$JS.API.CONSUMER.MSG.NEXT.VERDICT_BUNDLES.abc":                          true,
		"$JS.API.DIRECT.GET.VERDICT_BUNDLES.verdict.keys":                        true,
		"verdict.status.orders.pdp-1":                                            true,
		"verdict.decisions.orders":                                               true,
		"$JS.API.CONSUMER.CREATE.VERDICT_BUNDLES.abc.verdict.bundle.billing":     false,
		"$JS.API.CONSUMER.CREATE.VERDICT_BUNDLES.abc":                            false, // unfiltered
		"$JS.API.CONSUMER.CREATE.VERDICT_BUNDLES.abc.verdict.bundle.*":           false,
		"$JS.API.CONSUMER.CREATE.VERDICT_BUNDLES.abc.>":                          false,
		"$JS.API.DIRECT.GET.VERDICT_BUNDLES.verdict.bundle.billing":              false,
		"$JS.API.DIRECT.GET.VERDICT_BUNDLES":                                     false, // by sequence
		"$JS.API.STREAM.MSG.GET.VERDICT_BUNDLES":                                 false,
		"$JS.API.STREAM.DELETE.VERDICT_BUNDLES":                                  false,
		"$JS.API.CONSUMER.CREATE.VERDICT_DECISIONS.abc.verdict.decisions.orders": false,
		"verdict.status.billing.pdp-1":                                           false,
		"verdict.decisions.billing":                                              false,
		"verdict.bundle.orders":                                                  false,
		"verdict.revocation":                                                     false,
	}
	for s, want := range pub {
		if got := allowed(p.Publish.Allow, s); got != want {
			t.Errorf("publish %s: allowed %v, want %v", s, got, want)
		}
	}
	sub := map[string]bool{
		"_INBOX.svc-orders.abc.1":  true,
		"verdict.revocation":       true,
		"_INBOX.svc-billing.abc.1": false,
		"_INBOX.abc.1":             false,
		"verdict.bundle.orders":    false,
		"verdict.status.orders.x":  false,
	}
	for s, want := range sub {
		if got := allowed(p.Subscribe.Allow, s); got != want {
			t.Errorf("subscribe %s: allowed %v, want %v", s, got, want)
		}
	}
	// The PAP owns the bundle stream, not the decision stream.
	pap := Permissions(spiffeid.Must("example.org", ServicePAP), Layout{})
	denied := func(s string) bool { return allowed(pap.Publish.Deny, s) || !allowed(pap.Publish.Allow, s) }
	if denied("verdict.bundle.orders") || denied("$JS.API.STREAM.CREATE.OBJ_verdict-bundles-orders") ||
		!denied("$JS.API.STREAM.DELETE.VERDICT_DECISIONS") || !denied("$JS.API.CONSUMER.MSG.NEXT.VERDICT_DECISIONS.audit") ||
		!denied("$JS.API.DIRECT.GET.VERDICT_DECISIONS.verdict.decisions.orders") || !denied("verdict.decisions.orders") {
		t.Errorf("pap permissions: %v", pap.Publish.Allow)
	}
	audit := Permissions(spiffeid.Must("example.org", ServiceAudit), Layout{})
	if !allowed(audit.Publish.Allow, "$JS.API.CONSUMER.MSG.NEXT.VERDICT_DECISIONS.audit") || allowed(audit.Publish.Allow, "verdict.bundle.orders") {
		t.Errorf("audit permissions: %v", audit.Publish.Allow)
	}
}

// fakeClient is the part of a nats-server client the Authenticator sees.
type fakeClient struct {
	cs   *tls.ConnectionState
	user *natsserver.User
}

func (f *fakeClient) GetOpts() *natsserver.ClientOpts             { return &natsserver.ClientOpts{} }
func (f *fakeClient) GetTLSConnectionState() *tls.ConnectionState { return f.cs }
func (f *fakeClient) RegisterUser(u *natsserver.User)             { f.user = u }
func (f *fakeClient) RemoteAddress() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
}
func (f *fakeClient) GetNonce() []byte { return nil }
func (f *fakeClient) Kind() int        { return natsserver.CLIENT }
func (f *fakeClient) GetID() uint64    { return 1 }

func TestAuthenticator(t *testing.T) {
	a := NewAuthenticator("example.org", Layout{}, slog.New(slog.DiscardHandler))
	cert := func(uri string) *tls.ConnectionState {
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatal(err)
		}
		return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{URIs: []*url.URL{u}, NotAfter: time.Unix(2e9, 0)}}}
	}
	ok := &fakeClient{cs: cert("spiffe://example.org/service/orders")}
	if !a.Check(ok) || ok.user == nil || ok.user.Username != "spiffe://example.org/service/orders" ||
		!ok.user.ConnectionDeadline.Equal(time.Unix(2e9, 0)) || !allowed(ok.user.Permissions.Publish.Allow, "verdict.decisions.orders") {
		t.Fatalf("orders: %+v", ok.user)
	}
	for name, c := range map[string]*fakeClient{
		"no TLS":         {},
		"no certificate": {cs: &tls.ConnectionState{}},
		"other domain":   {cs: cert("spiffe://evil.org/service/orders")},
		"not SPIFFE":     {cs: cert("https://example.org/service/orders")},
	} {
		if a.Check(c) || c.user != nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
