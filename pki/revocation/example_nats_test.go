package revocation_test

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/pki/revocation"
)

// A relying party (PDP, PAP, remote PDP) keeps one Set fed from NATS and
// hands it to its TLS configuration and connection tracker:
//
//	set := revocation.NewSet()
//	sub, err := revocation.Subscribe(ctx, nc, set)
//	cfg := tlsconfig.ServerConfig(src, tlsconfig.WithRevocationChecker(revocation.Any(set, crl)))
//	ln := tlsconfig.NewConnTracker(set).Listener(raw, cfg)
//
// The CA side is ca.WithRevocationNotifier(revocation.NewPublisher(nc)).
func ExampleSubscribe() {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		panic(err)
	}
	srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10 * time.Second) {
		panic("nats-server not ready")
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		panic(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	set := revocation.NewSet()
	sub, err := revocation.Subscribe(ctx, nc, set)
	if err != nil {
		panic(err)
	}
	defer sub.Close()
	revoked := make(chan revocation.Entry, 1)
	defer set.Subscribe(func(e revocation.Entry) { revoked <- e })()

	pub := revocation.NewPublisher(nc)
	if err := pub.Publish(ctx, revocation.Entry{Serial: big.NewInt(1234), RevokedAt: time.Now(), Reason: 1}); err != nil {
		panic(err)
	}
	select {
	case e := <-revoked:
		fmt.Println("revoked serial", e.Serial, "reason", e.Reason)
	case <-ctx.Done():
		fmt.Println("no event")
	}
	// Output: revoked serial 1234 reason 1
}
