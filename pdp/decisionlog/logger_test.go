package decisionlog_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pdp/decisionlog"
)

func newLogger(t *testing.T, pub decisionlog.Publisher, opts ...decisionlog.Option) (*decisionlog.Logger, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	l, err := decisionlog.New(t.Context(), pub, append([]decisionlog.Option{decisionlog.WithRegisterer(reg)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close(t.Context()) })
	return l, reg
}

func TestLoggerPublishesMaskedRecords(t *testing.T) {
	pub := newFake()
	m, err := decisionlog.NewMasker([]byte("key"), decisionlog.Rule{Path: "subject/email", Action: decisionlog.MaskHash})
	if err != nil {
		t.Fatal(err)
	}
	l, reg := newLogger(t, pub, decisionlog.WithMasker("orders", m), decisionlog.WithInstance("pdp-1"), decisionlog.WithBatch(10, 5*time.Millisecond))
	for i := range 25 {
		l.Log(t.Context(), record(i))
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if pub.count() != 25 {
		t.Fatalf("published %d, want 25", pub.count())
	}
	msg := pub.got["d-000003"]
	if msg.Subject != "verdict.decisions.orders" {
		t.Fatalf("subject %q", msg.Subject)
	}
	var r decisionlog.Record
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(msg.Data), "alice@example.com") || len(r.Masked) != 1 || r.Instance != "pdp-1" {
		t.Fatalf("record not masked or instance missing: %s", msg.Data)
	}
	if q, s := counter(t, reg, "verdict_decisionlog_queued_total"), counter(t, reg, "verdict_decisionlog_sent_total"); q != 25 || s != 25 {
		t.Fatalf("queued=%v sent=%v", q, s)
	}
	l.Log(t.Context(), record(99))
	if d := counter(t, reg, "verdict_decisionlog_dropped_total"); d != 1 {
		t.Fatalf("record logged after Close: dropped=%v, want 1", d)
	}
}

func TestLoggerSpoolsWhileDownAndReplays(t *testing.T) {
	pub := newFake()
	pub.setDown(true)
	dir := t.TempDir()
	l, reg := newLogger(t, pub, decisionlog.WithSpool(dir, 1<<20), decisionlog.WithSegmentBytes(2048),
		decisionlog.WithBatch(16, 5*time.Millisecond), decisionlog.WithPublishTimeout(100*time.Millisecond))
	for i := range 200 {
		l.Log(t.Context(), record(i))
	}
	eventually(t, "records spooled", func() bool { return counter(t, reg, "verdict_decisionlog_spooled_total") == 200 })
	if pub.count() != 0 {
		t.Fatal("published while down")
	}
	pub.setDown(false)
	eventually(t, "spool replayed", func() bool { return pub.count() == 200 })
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Fatalf("spool not emptied: %d files", len(ents))
	}
	if d := counter(t, reg, "verdict_decisionlog_dropped_total"); d != 0 {
		t.Fatalf("dropped %v", d)
	}
}

func TestLoggerNeverBlocksAndDropsOnlyPastTheCap(t *testing.T) {
	pub := newFake()
	pub.block = make(chan struct{}) // the publisher hangs
	dir := t.TempDir()
	one, _ := json.Marshal(record(0))
	// Room for about 50 records in the spool.
	l, reg := newLogger(t, pub, decisionlog.WithBuffer(4), decisionlog.WithBatch(1000, time.Hour),
		decisionlog.WithSpool(dir, int64(50*(len(one)+64))))
	start := time.Now()
	for i := range 500 {
		l.Log(t.Context(), record(i))
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Log blocked: 500 records took %v", took)
	}
	queued := counter(t, reg, "verdict_decisionlog_queued_total")
	spooled := counter(t, reg, "verdict_decisionlog_spooled_total")
	dropped := counter(t, reg, "verdict_decisionlog_dropped_total")
	if spooled < 40 || dropped == 0 || queued+spooled+dropped != 500 {
		t.Fatalf("queued=%v spooled=%v dropped=%v, want all accounted for, some spooled and the rest dropped", queued, spooled, dropped)
	}
	close(pub.block)
}

func TestSpoolSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	down := newFake()
	down.setDown(true)
	l, _ := newLogger(t, down, decisionlog.WithSpool(dir, 1<<20), decisionlog.WithPublishTimeout(50*time.Millisecond), decisionlog.WithBatch(8, time.Millisecond))
	for i := range 30 {
		l.Log(t.Context(), record(i))
	}
	if err := l.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	up := newFake()
	l2, _ := newLogger(t, up, decisionlog.WithSpool(dir, 1<<20), decisionlog.WithBatch(8, time.Millisecond))
	eventually(t, "previous process's spool replayed", func() bool { return up.count() == 30 })
	if err := l2.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}
