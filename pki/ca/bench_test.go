package ca_test

import (
	"testing"

	"github.com/verdict-authz/verdict/pki/ca"
)

// BenchmarkIssue measures stored issuances: signing plus the SQLite insert,
// one at a time. The issue's goal is ≥ 500 issuances/s.
func BenchmarkIssue(b *testing.B) {
	f := newBenchFixture(b)
	pub := newKey(b).Public()
	ctx := b.Context()
	for b.Loop() {
		if _, err := f.Issue(ctx, ca.IssueRequest{PublicKey: pub, Service: "bench", Profile: ca.ProfilePeer}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "issuances/s")
}

// BenchmarkIssueParallel is BenchmarkIssue from concurrent callers: signing
// runs in parallel, inserts serialize on the single SQLite writer.
func BenchmarkIssueParallel(b *testing.B) {
	f := newBenchFixture(b)
	pub := newKey(b).Public()
	ctx := b.Context()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := f.Issue(ctx, ca.IssueRequest{PublicKey: pub, Service: "bench", Profile: ca.ProfilePeer}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "issuances/s")
}

func newBenchFixture(b *testing.B) *ca.CA {
	b.Helper()
	c, err := ca.New(b.Context(), b.TempDir(), ca.WithTrustDomain(td), ca.WithLogger(discard()), ca.WithAuditSink(ca.SlogAudit(discard())))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}
