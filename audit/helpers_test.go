package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/audit/sqlstore"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
)

// env is one test's corner of a NATS server: unique stream, subject
// prefix and durable, deleted afterwards.
type env struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  string
	prefix  string
	cpPrefx string
}

func newEnv(t testing.TB, url string) *env {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{nc: nc, js: js, stream: "T_AUDIT_" + strings.ToUpper(id), prefix: "t" + id + ".decisions", cpPrefx: "t" + id + ".checkpoint"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, e.stream)
	})
	return e
}

func openStore(t testing.TB) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newSigner(t *testing.T) *audit.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return audit.NewSigner(priv)
}

func decision(service string, i int) decisionlog.Record {
	return decisionlog.Record{
		DecisionID: fmt.Sprintf("%s-%07d", service, i),
		Time:       time.Now().UTC(),
		Service:    service,
		Revision:   3,
		Request: []pdp.Attribute{
			{Category: pdp.CategorySubject, ID: "id", Values: []pdp.Value{{Type: "string", Lexical: fmt.Sprintf("user%d", i%10)}}},
			{Category: pdp.CategoryAction, ID: "name", Values: []pdp.Value{{Type: "string", Lexical: "GET"}}},
		},
		Effect: pdp.EffectPermit,
		Status: pdp.Status{Code: pdp.StatusOK},
	}
}

// capturedCheckpoints records what the collector publishes.
type capturedCheckpoints struct {
	mu  sync.Mutex
	got []audit.Checkpoint
}

func (c *capturedCheckpoints) PublishCheckpoint(_ context.Context, cp audit.Checkpoint) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, cp)
	return nil
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
