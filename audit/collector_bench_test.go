package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/audit/sqlstore"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/decisionlog/natspub"
)

// BenchmarkCollectorIngest measures the collector end to end: records
// already in JetStream, fetched, parsed, chained and stored, acknowledged.
// records/s is the ingest rate, into SQLite (the default store) and, when
// VERDICT_TEST_POSTGRES_DSN names a database, PostgreSQL.
func BenchmarkCollectorIngest(b *testing.B) {
	b.Run("SQLite", func(b *testing.B) {
		benchmarkIngest(b, func(b *testing.B) audit.Store { return openStore(b) })
	})
	b.Run("Postgres", func(b *testing.B) {
		dsn := os.Getenv("VERDICT_TEST_POSTGRES_DSN")
		if dsn == "" {
			b.Skip("VERDICT_TEST_POSTGRES_DSN is not set")
		}
		benchmarkIngest(b, func(b *testing.B) audit.Store {
			schema := fmt.Sprintf("audit_ingest_%d_%d", os.Getpid(), time.Now().UnixNano())
			s, err := sqlstore.OpenPostgres(b.Context(), dsn, schema)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				_, _ = s.DB().ExecContext(context.WithoutCancel(b.Context()), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
				s.Close()
			})
			return s
		})
	})
}

func benchmarkIngest(b *testing.B, open func(*testing.B) audit.Store) {
	const n = 5000
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		e := newEnv(b, natstest.URL(b))
		st := open(b)
		if _, err := natspub.EnsureStream(b.Context(), e.js, e.stream, e.prefix); err != nil {
			b.Fatal(err)
		}
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
		total += time.Since(start)
		stop()
		<-done
	}
	b.ReportMetric(float64(b.N*n)/total.Seconds(), "records/s")
}
