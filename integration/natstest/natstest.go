// Package natstest gives tests a NATS server with JetStream: the shared one
// CI names in VERDICT_TEST_NATS_URL, or an in-process nats-server on a free
// port when the variable is unset. Tests isolate themselves on it with
// their own stream, bucket and subject names. Only tests import it.
package natstest

import (
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EnvVar names the variable CI sets to its NATS server.
const EnvVar = "VERDICT_TEST_NATS_URL"

// URL returns the server's client URL. An in-process server lives until
// the test ends.
func URL(t testing.TB) string {
	t.Helper()
	if url := os.Getenv(EnvVar); url != "" {
		return url
	}
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	return srv.ClientURL()
}
