package bundlesource_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
)

// Example feeds an engine from the bundles published for a service: New
// returns once the latest one is active, and later revisions follow.
func Example() {
	dir, err := os.MkdirTemp("", "bundlesource-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		log.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		log.Fatal("nats-server not ready")
	}
	ctx := context.Background()
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1))
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()

	// The PAP's side, reduced to the wire contract: a stream, and a signed
	// bundle on the service's subject.
	key, _ := bundle.GenerateSigningKey()
	js, _ := jetstream.New(nc)
	var subjects bundlesource.Subjects
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:              bundlesource.DefaultStream,
		Subjects:          []string{subjects.Bundles(), subjects.Keys()},
		MaxMsgsPerSubject: 10,
	}); err != nil {
		log.Fatal(err)
	}
	publish := func(rev uint64) {
		b, _ := bundle.New(bundle.Contents{
			Service: "orders", Revision: rev, RootPolicyID: "root", CreatedAt: time.Now(),
			Modules: map[string]string{"main.rego": "package verdict.main\n\nresult := {\"d\": \"P\"}\n"},
		})
		signed, _ := b.Sign(key)
		data, _ := signed.MarshalBinary()
		msg := nats.NewMsg(subjects.Bundle("orders"))
		msg.Header.Set(bundlesource.HeaderKind, bundlesource.KindBundle)
		msg.Data = data
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			log.Fatal(err)
		}
	}
	publish(1)

	// The PDP's side.
	trust, _ := bundle.NewTrustStore([]bundle.PublicKey{key.PublicKey()})
	engine := pdp.New()
	src, err := bundlesource.New(ctx, nc, engine, bundlesource.WithService("orders"), bundlesource.WithTrustStore(trust))
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	fmt.Println("active revision:", src.Revision())

	publish(2)
	if err := src.WaitForRevision(ctx, 2); err != nil {
		log.Fatal(err)
	}
	d, _ := engine.Decide(ctx, &pdp.Request{})
	fmt.Println(d.Effect, "by revision", d.Revision)
	// Output:
	// active revision: 1
	// Permit by revision 2
}
