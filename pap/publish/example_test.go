package publish_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
)

// Example publishes a stored revision and shows a PDP receiving it; a
// second publish of the same revision is skipped, since the subject
// already holds it.
func Example() {
	dir, _ := os.MkdirTemp("", "publish-example")
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
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	ctx := context.Background()

	key, _ := bundle.GenerateSigningKey()
	pub, err := publish.New(ctx, nc, key)
	if err != nil {
		log.Fatal(err)
	}
	rev := revision("orders", 1, "P", 0)
	res, err := pub.Publish(ctx, rev)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("published revision", res.Revision, "skipped:", res.Skipped)

	trust, _ := bundle.NewTrustStore([]bundle.PublicKey{key.PublicKey()})
	src, err := bundlesource.New(ctx, nc, pdp.New(), bundlesource.WithService("orders"), bundlesource.WithTrustStore(trust))
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	fmt.Println("PDP runs revision", src.Revision(), "with the published digest:", src.Digest() == res.Digest)

	again, _ := pub.Publish(ctx, rev)
	fmt.Println("republished:", !again.Skipped)
	// Output:
	// published revision 1 skipped: false
	// PDP runs revision 1 with the published digest: true
	// republished: false
}
