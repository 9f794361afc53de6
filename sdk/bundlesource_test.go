package sdk_test

import (
	"context"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
	"github.com/verdict-authz/verdict/sdk"
)

// TestNATSBundleSource runs the SDK on the real bundle stream: an embedded
// NATS server with JetStream, bundles published as the PAP does, and
// pdp/bundlesource plugged in through NewBundleSource. New returns once the
// first bundle is active; a new revision is swapped in while deciding; the
// bundle lands in the last-known-good directory, from which a second PDP
// starts without NATS.
func TestNATSBundleSource(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	subjects := bundlesource.Subjects{Prefix: "sdktest"}
	const stream = "SDKTEST_BUNDLES"
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: stream, Subjects: []string{subjects.Bundles(), subjects.Keys()}}); err != nil {
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
	publish := func(p *pdp.Policy, rev uint64) {
		t.Helper()
		data, err := p.BundleData()
		if err != nil {
			t.Fatal(err)
		}
		b, err := bundle.New(bundle.Contents{Service: "routes", Revision: rev, RootPolicyID: p.RootID, CreatedAt: time.Now(), Modules: p.Modules, Data: data})
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
		if _, err := js.PublishMsg(t.Context(), msg); err != nil {
			t.Fatal(err)
		}
	}
	publish(routesPolicy(t), 1)

	cache := t.TempDir()
	source := sdk.NewBundleSource(func(ctx context.Context, e *pdp.Engine) (*bundlesource.Source, error) {
		return bundlesource.New(ctx, nc, e,
			bundlesource.WithService("routes"), bundlesource.WithTrustStore(trust), bundlesource.WithCacheDir(cache),
			bundlesource.WithSubjectPrefix(subjects.Prefix), bundlesource.WithStream(stream), bundlesource.WithLogger(quiet))
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	p, err := sdk.New(ctx, sdk.WithService("routes"), sdk.WithBundleSource(source), sdk.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if d, err := p.Decide(t.Context(), pathRequest("/files/public/x")); err != nil || d.Effect != pdp.EffectPermit || d.Revision != 1 {
		t.Fatalf("revision 1: %v, %v", d, err)
	}

	publish(compileYAML(t, denyAll, "routes", 2), 2)
	deadline := time.Now().Add(20 * time.Second)
	for p.Policy().Revision != 2 {
		if time.Now().After(deadline) {
			t.Fatal("revision 2 never became active")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d, err := p.Decide(t.Context(), pathRequest("/files/public/x")); err != nil || d.Effect != pdp.EffectDeny || d.Revision != 2 {
		t.Fatalf("revision 2: %v, %v", d, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	// The source cached what it activated: a PDP restarting without NATS
	// starts on it.
	restarted := mustNew(t, sdk.WithService("routes"), sdk.WithLastKnownGood(cache), sdk.WithTrustedKeys(trust), sdk.WithLogger(quiet))
	if got := restarted.Policy().Revision; got != 2 {
		t.Errorf("last-known-good revision %d, want 2", got)
	}
}
