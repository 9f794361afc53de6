package audit_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/decisionlog/natspub"
)

// TestCollectorCrashLosesNothing streams 10,000 decisions, kills the
// consumer mid-stream (its context is cancelled while batches are fetched
// but not acknowledged) and restarts it on the same durable consumer:
// every emitted record is stored exactly once and the chain is intact.
func TestCollectorCrashLosesNothing(t *testing.T) {
	const n = 10000
	e := newEnv(t, natstest.URL(t))
	st := openStore(t)
	signer := newSigner(t)
	cpFile := audit.NewCheckpointFile(filepath.Join(t.TempDir(), "checkpoints.jsonl"))
	published := &capturedCheckpoints{}
	opts := []audit.CollectorOption{
		audit.WithStream(e.stream, e.prefix), audit.WithDurable("crash"), audit.WithCollectorBatch(200),
		audit.WithAckWait(time.Second), audit.WithCheckpoints(50*time.Millisecond, cpFile, published),
	}
	if _, err := natspub.EnsureStream(t.Context(), e.js, e.stream, e.prefix); err != nil {
		t.Fatal(err)
	}

	ctx1, kill := context.WithCancel(t.Context())
	done1 := make(chan error, 1)
	go func() { done1 <- audit.NewCollector(e.js, st, signer, opts...).Run(ctx1) }()

	logger, err := decisionlog.New(t.Context(), natspub.New(e.js),
		decisionlog.WithSubjectPrefix(e.prefix), decisionlog.WithBatch(250, 5*time.Millisecond), decisionlog.WithBuffer(n))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		logger.Log(t.Context(), decision("orders", i))
	}
	eventually(t, 60*time.Second, "collector to be mid-stream", func() bool {
		c, _ := st.Count(t.Context(), "")
		return c >= n/4
	})
	kill()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	stoppedAt, _ := st.Count(t.Context(), "")
	if err := logger.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	ctx2, stop := context.WithCancel(t.Context())
	done2 := make(chan error, 1)
	go func() { done2 <- audit.NewCollector(e.js, st, signer, opts...).Run(ctx2) }()
	eventually(t, 120*time.Second, "all records stored", func() bool {
		c, _ := st.Count(t.Context(), "")
		return c >= n
	})
	time.Sleep(1500 * time.Millisecond) // let any redelivery of the killed batches arrive
	stop()
	if err := <-done2; err != nil {
		t.Fatal(err)
	}
	got, err := st.Count(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("stored %d records, emitted %d", got, n)
	}
	t.Logf("killed after %d stored; restarted and reached %d", stoppedAt, got)

	latest, err := cpFile.Latest()
	if err != nil {
		t.Fatal(err)
	}
	cp, ok := latest["orders"]
	if !ok || cp.Seq != n {
		t.Fatalf("latest checkpoint %+v, want one at %d", cp, n)
	}
	rep, err := audit.Verify(t.Context(), st, audit.NewKeys(signer.PublicKey()), "orders", cp)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact || rep.Checked != n || rep.Last != n {
		t.Fatalf("chain after crash: %+v", rep)
	}
	published.mu.Lock()
	defer published.mu.Unlock()
	if len(published.got) == 0 || published.got[len(published.got)-1].Seq != n {
		t.Fatalf("checkpoints published: %d", len(published.got))
	}
}

// TestCollectorSkipsMalformedRecords: garbage on the subject is not stored
// and does not stop the records after it.
func TestCollectorSkipsMalformedRecords(t *testing.T) {
	e := newEnv(t, natstest.URL(t))
	st := openStore(t)
	if _, err := natspub.EnsureStream(t.Context(), e.js, e.stream, e.prefix); err != nil {
		t.Fatal(err)
	}
	if _, err := e.js.Publish(t.Context(), e.prefix+".orders", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	pub := natspub.New(e.js)
	data := []decisionlog.Message{}
	for i := range 3 {
		l := decision("orders", i)
		b, _ := json.Marshal(l)
		data = append(data, decisionlog.Message{Subject: e.prefix + ".orders", ID: l.DecisionID, Data: b})
	}
	if err := pub.PublishBatch(t.Context(), data); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- audit.NewCollector(e.js, st, nil, audit.WithStream(e.stream, e.prefix), audit.WithDurable("bad")).Run(ctx)
	}()
	eventually(t, 20*time.Second, "good records stored", func() bool {
		c, _ := st.Count(t.Context(), "orders")
		return c == 3
	})
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
