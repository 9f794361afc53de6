package sqlstore_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/audit/sqlstore"
	"github.com/verdict-authz/verdict/audit/storetest"
)

// benchmarkAppend measures ingest: records stored per second in batches
// of 500, as the collector writes them.
func benchmarkAppend(b *testing.B, st audit.Store) {
	const batch = 500
	entries := storetest.Entries(b, "bench", 0, batch)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		es := make([]audit.Entry, len(entries))
		copy(es, entries)
		for j := range es {
			es[j].DecisionID = fmt.Sprintf("b%d-%d", i, j)
		}
		if _, err := st.Append(b.Context(), es); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkAppendSQLite(b *testing.B) {
	s, err := sqlstore.OpenSQLite(b.Context(), filepath.Join(b.TempDir(), "audit.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchmarkAppend(b, s)
}

func BenchmarkAppendPostgres(b *testing.B) {
	dsn := os.Getenv("VERDICT_TEST_POSTGRES_DSN")
	if dsn == "" {
		b.Skip("VERDICT_TEST_POSTGRES_DSN is not set")
	}
	schema := fmt.Sprintf("audit_bench_%d", os.Getpid())
	s, err := sqlstore.OpenPostgres(b.Context(), dsn, schema)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		_, _ = s.DB().ExecContext(b.Context(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
		s.Close()
	}()
	benchmarkAppend(b, s)
}
