package natspub_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/decisionlog/natspub"
)

// TestPublisherDeduplicates sends records twice, as a replayed spool
// does, and expects the stream to hold each once.
func TestPublisherDeduplicates(t *testing.T) {
	nc, err := nats.Connect(natstest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	prefix, name := "t"+id+".decisions", "T_DL_"+strings.ToUpper(id)
	stream, err := natspub.EnsureStream(t.Context(), js, name, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, name)
	})
	pub := natspub.New(js)
	l, err := decisionlog.New(t.Context(), pub, decisionlog.WithSubjectPrefix(prefix), decisionlog.WithBatch(50, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		l.Log(t.Context(), record(i))
	}
	for i := range 100 { // redelivered records, as a replayed spool sends them
		l.Log(t.Context(), record(i))
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 300 {
		t.Fatalf("stream holds %d messages, want 300 (duplicates removed)", info.State.Msgs)
	}
	msg, err := stream.GetLastMsgForSubject(t.Context(), prefix+".orders")
	if err != nil {
		t.Fatal(err)
	}
	if msg.Header.Get(jetstream.MsgIDHeader) == "" {
		t.Fatal("message has no Nats-Msg-Id")
	}
}

func record(i int) decisionlog.Record {
	return decisionlog.Record{
		DecisionID: fmt.Sprintf("d-%06d", i),
		Time:       time.Unix(1700000000, 0).UTC(),
		Service:    "orders",
		Request:    []pdp.Attribute{{Category: pdp.CategorySubject, ID: "id", Values: []pdp.Value{{Type: "string", Lexical: "alice"}}}},
		Effect:     pdp.EffectPermit,
		Status:     pdp.Status{Code: pdp.StatusOK},
	}
}
