package sdk_test

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/integration/mtlstest"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/decisionlog/natspub"
	"github.com/verdict-authz/verdict/pki/natsauth"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/sdk"
)

// platformNATS runs a NATS server configured as `verdict up` runs its own:
// TLS only, client certificates of the trust domain required, each
// identity mapped to its permissions by natsauth.
func platformNATS(t *testing.T, authority *mtlstest.CA) string {
	t.Helper()
	tc := tlsconfig.ServerConfig(authority.Source(t, "nats"),
		tlsconfig.WithAuthorizer(tlsconfig.AuthorizeMemberOf(mtlstest.TrustDomain)), tlsconfig.WithLogger(quiet))
	tc.ClientAuth = tls.RequireAndVerifyClientCert
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, TLSConfig: tc, TLSVerify: true, TLSTimeout: 5,
		CustomClientAuthentication: natsauth.NewAuthenticator(mtlstest.TrustDomain, natsauth.Layout{}, quiet)})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	return "tls://" + ns.Addr().String()
}

// connectAs connects to url with service's MutualTLS NATS options.
func connectAs(t *testing.T, authority *mtlstest.CA, url, service string) *nats.Conn {
	t.Helper()
	mt := sdk.NewMutualTLS(authority.Source(t, service), sdk.WithTLSLogger(quiet))
	t.Cleanup(func() { _ = mt.Close() })
	nc, err := nats.Connect(url, append(mt.NATSOptions(mtlstest.ID("nats")), nats.MaxReconnects(-1))...)
	if err != nil {
		t.Fatalf("nats as %s: %v", service, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TestMutualTLSJoinsPlatformNATS: an embedded SDK PDP joins the
// platform's NATS with its service certificate alone — MutualTLS's NATS
// options carry the inbox prefix its permissions require — follows its
// service's signed bundles and ships its decisions to the decision stream.
// The same certificate without the prefix gets no JetStream answer.
func TestMutualTLSJoinsPlatformNATS(t *testing.T) {
	authority := mtlstest.NewCA(t)
	url := platformNATS(t, authority)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	// The PAP owns the bundle stream; the audit collector the decision one.
	papJS, err := jetstream.New(connectAs(t, authority, url, natsauth.ServicePAP))
	if err != nil {
		t.Fatal(err)
	}
	subjects := bundlesource.Subjects{}
	if _, err := papJS.CreateStream(ctx, jetstream.StreamConfig{Name: bundlesource.DefaultStream,
		Subjects: []string{subjects.Bundles(), subjects.Keys()}}); err != nil {
		t.Fatal(err)
	}
	auditJS, err := jetstream.New(connectAs(t, authority, url, natsauth.ServiceAudit))
	if err != nil {
		t.Fatal(err)
	}
	decisions, err := auditJS.CreateStream(ctx, jetstream.StreamConfig{Name: decisionlog.DefaultStream,
		Subjects: []string{decisionlog.DefaultSubjectPrefix + ".>"}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := bundle.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	trust, err := bundle.NewTrustStore([]bundle.PublicKey{key.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	policy := routesPolicy(t)
	data, err := policy.BundleData()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.New(bundle.Contents{Service: "routes", Revision: 1, RootPolicyID: policy.RootID, CreatedAt: time.Now(), Modules: policy.Modules, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := b.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(subjects.Bundle("routes"))
	msg.Header.Set(bundlesource.HeaderKind, bundlesource.KindBundle)
	msg.Data = raw
	if _, err := papJS.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}

	// The service "routes": its PDP's one connection, bundles in and
	// decisions out.
	nc := connectAs(t, authority, url, "routes")
	if got, want := nc.Opts.InboxPrefix, natsauth.InboxPrefix("routes"); got != want {
		t.Fatalf("inbox prefix %q, want %q", got, want)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	dlog, err := decisionlog.New(ctx, natspub.New(js), decisionlog.WithInstance("sdk-mtls-test"), decisionlog.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	source := sdk.NewBundleSource(func(ctx context.Context, e *pdp.Engine) (*bundlesource.Source, error) {
		return bundlesource.New(ctx, nc, e, bundlesource.WithService("routes"), bundlesource.WithTrustStore(trust),
			bundlesource.WithCacheDir(t.TempDir()), bundlesource.WithLogger(quiet))
	})
	p, err := sdk.New(ctx, sdk.WithService("routes"), sdk.WithBundleSource(source), sdk.WithLogger(quiet),
		sdk.WithDecisionLogger(dlog))
	if err != nil {
		t.Fatalf("the SDK PDP did not get its bundle over the platform's NATS: %v", err)
	}
	defer p.Close()
	d, err := p.Decide(ctx, pathRequest("/files/public/x"))
	if err != nil || d.Effect != pdp.EffectPermit || d.Revision != 1 {
		t.Fatalf("decision: %v, %v", d, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := dlog.Close(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := decisions.GetLastMsgForSubject(ctx, decisionlog.DefaultSubjectPrefix+".routes")
	if err != nil {
		t.Fatalf("no decision record from the SDK PDP in the decision stream: %v", err)
	}
	if len(got.Data) == 0 {
		t.Fatal("empty decision record")
	}

	// Without the prefix, the server does not deliver JetStream's replies.
	bare, err := nats.Connect(url, nats.Secure(tlsconfig.ClientConfig(authority.Source(t, "routes"),
		tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(mtlstest.ID("nats"))), tlsconfig.WithLogger(quiet))),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	bareJS, err := jetstream.New(bare)
	if err != nil {
		t.Fatal(err)
	}
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	if _, err := bareJS.Stream(short, bundlesource.DefaultStream); err == nil {
		t.Fatal("a connection without the service's inbox prefix got a JetStream answer: the test proves nothing")
	}
}
