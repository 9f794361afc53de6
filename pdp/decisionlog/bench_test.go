package decisionlog_test

import (
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp/decisionlog"
)

// BenchmarkLog measures what a decision pays for logging: Log on the
// request's path, with the worker masking and publishing to a publisher
// that accepts everything.
func BenchmarkLog(b *testing.B) {
	m, err := decisionlog.NewMasker([]byte("k"), decisionlog.Rule{Path: "subject/email", Action: decisionlog.MaskHash})
	if err != nil {
		b.Fatal(err)
	}
	l, err := decisionlog.New(b.Context(), newFake(), decisionlog.WithMasker("", m), decisionlog.WithBatch(256, 10*time.Millisecond),
		decisionlog.WithSpool(b.TempDir(), 1<<30))
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close(b.Context())
	r := record(1)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Log(b.Context(), r)
		}
	})
}
