package audit_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/decisionlog/natspub"
)

// BenchmarkCollectorIngest measures the collector end to end: records
// already in JetStream, fetched, parsed, chained and stored in SQLite,
// acknowledged. records/s is the ingest rate.
func BenchmarkCollectorIngest(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, natstest.URL(b))
		st := openStore(b)
		if _, err := natspub.EnsureStream(b.Context(), e.js, e.stream, e.prefix); err != nil {
			b.Fatal(err)
		}
		const n = 5000
		pub := natspub.New(e.js)
		msgs := make([]decisionlog.Message, 0, 500)
		for i := range n {
			r := decision("bench", i)
			data, _ := json.Marshal(r)
			msgs = append(msgs, decisionlog.Message{Subject: e.prefix + ".bench", ID: r.DecisionID, Data: data})
			if len(msgs) == cap(msgs) {
				if err := pub.PublishBatch(b.Context(), msgs); err != nil {
					b.Fatal(err)
				}
				msgs = msgs[:0]
			}
		}
		b.StartTimer()
		start := time.Now()
		ctx, stop := context.WithCancel(b.Context())
		done := make(chan error, 1)
		go func() {
			done <- audit.NewCollector(e.js, st, nil, audit.WithStream(e.stream, e.prefix), audit.WithDurable("bench")).Run(ctx)
		}()
		for {
			c, _ := st.Count(b.Context(), "")
			if c == n {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		b.ReportMetric(n/time.Since(start).Seconds(), "records/s")
		stop()
		<-done
	}
}
