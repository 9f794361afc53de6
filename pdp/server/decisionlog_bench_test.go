package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/decisionlog/natspub"
	"github.com/verdict-authz/verdict/pdp/server"
)

type discardPublisher struct{}

func (discardPublisher) PublishBatch(context.Context, []decisionlog.Message) error { return nil }

// BenchmarkEvaluationHandlerDecisionLog is BenchmarkEvaluationHandler with
// every decision logged: compare the two for the cost of decision logging
// (records built on the request path, masked, encoded and published by
// the logger's worker on the same CPUs). With VERDICT_TEST_NATS_URL set,
// records really go to JetStream.
func BenchmarkEvaluationHandlerDecisionLog(b *testing.B) {
	var pub decisionlog.Publisher = discardPublisher{}
	opts := []decisionlog.Option{decisionlog.WithSpool(b.TempDir(), 1<<30)}
	if url := os.Getenv("VERDICT_TEST_NATS_URL"); url != "" {
		nc, err := nats.Connect(url)
		if err != nil {
			b.Fatal(err)
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			b.Fatal(err)
		}
		name, prefix := "BENCH_DL_"+time.Now().Format("150405"), "bench"+time.Now().Format("150405")+".decisions"
		if _, err := natspub.EnsureStream(b.Context(), js, name, prefix); err != nil {
			b.Fatal(err)
		}
		defer func() { _ = js.DeleteStream(context.WithoutCancel(b.Context()), name) }()
		pub = natspub.New(js)
		opts = append(opts, decisionlog.WithSubjectPrefix(prefix))
	}
	m, err := decisionlog.NewMasker([]byte("k"), decisionlog.Rule{Path: "subject/email", Action: decisionlog.MaskHash})
	if err != nil {
		b.Fatal(err)
	}
	l, err := decisionlog.New(b.Context(), pub, append(opts, decisionlog.WithMasker("", m))...)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(context.WithoutCancel(b.Context()))
	set := testPIPs(b)
	srv, err := server.New(testEngine(b, set), server.WithInsecurePlaintext(), server.WithDecisionLog(l, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, server.PathEvaluation, strings.NewReader(benchBody))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}
