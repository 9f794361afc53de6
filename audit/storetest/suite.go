// Package storetest is the audit.Store contract as a test suite, run by
// every backend (SQLite, Postgres) so that the collector and the query API
// can switch between them without noticing. Test support only.
package storetest

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
)

// Harness is one fresh, empty store plus raw SQL access to it, which the
// tamper tests use to do what an attacker with database access would.
type Harness struct {
	Store audit.Store
	// Exec runs one SQL statement written with ? placeholders.
	Exec func(ctx context.Context, query string, args ...any) error
}

// Run runs the whole suite; newHarness must return a new, empty store per
// call and clean it up when the test ends.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := map[string]func(t *testing.T, h Harness){
		"AppendIsIdempotent":            testAppendIsIdempotent,
		"ChainsArePerService":           testChainsArePerService,
		"GetAndNotFound":                testGetAndNotFound,
		"QueryFilters":                  testQueryFilters,
		"QueryPages":                    testQueryPages,
		"QueryRejectsBadPageToken":      testQueryRejectsBadPageToken,
		"VerifyIntact":                  testVerifyIntact,
		"VerifyDetectsModification":     testVerifyDetectsModification,
		"VerifyDetectsIndexEdit":        testVerifyDetectsIndexEdit,
		"VerifyDetectsDeletion":         testVerifyDetectsDeletion,
		"VerifyDetectsTruncation":       testVerifyDetectsTruncation,
		"VerifyDetectsRewrite":          testVerifyDetectsRewrite,
		"RetentionKeepsChainVerifiable": testRetentionKeepsChainVerifiable,
		"ForgedTombstoneIsReported":     testForgedTombstoneIsReported,
		"Close":                         testClose,
	}
	for name, run := range tests {
		t.Run(name, func(t *testing.T) { run(t, newHarness(t)) })
	}
}

var base = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// Entry returns the entry of a synthetic decision i of service: subject
// user<i%3>, action read or write, Permit for even i.
func Entry(t testing.TB, service string, i int) audit.Entry {
	t.Helper()
	effect := pdp.EffectPermit
	if i%2 == 1 {
		effect = pdp.EffectDeny
	}
	action := "read"
	if i%4 >= 2 {
		action = "write"
	}
	r := decisionlog.Record{
		DecisionID: fmt.Sprintf("%s-%06d", service, i),
		Time:       base.Add(time.Duration(i) * time.Second),
		Service:    service,
		Revision:   uint64(1 + i/10),
		Request: []pdp.Attribute{
			{Category: pdp.CategorySubject, ID: "id", Values: []pdp.Value{{Type: "string", Lexical: fmt.Sprintf("user%d", i%3)}}},
			{Category: pdp.CategoryResource, ID: "type", Values: []pdp.Value{{Type: "string", Lexical: "todo"}}},
			{Category: pdp.CategoryResource, ID: "id", Values: []pdp.Value{{Type: "string", Lexical: fmt.Sprintf("t%d", i)}}},
			{Category: pdp.CategoryAction, ID: "name", Values: []pdp.Value{{Type: "string", Lexical: action}}},
		},
		Effect: effect,
		Status: pdp.Status{Code: pdp.StatusOK},
	}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	e, err := audit.NewEntry(data)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Entries returns entries from..to-1 of service.
func Entries(t testing.TB, service string, from, to int) []audit.Entry {
	var out []audit.Entry
	for i := from; i < to; i++ {
		out = append(out, Entry(t, service, i))
	}
	return out
}

func mustAppend(t *testing.T, s audit.Store, es []audit.Entry) audit.AppendResult {
	t.Helper()
	res, err := s.Append(t.Context(), es)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func testAppendIsIdempotent(t *testing.T, h Harness) {
	s := h.Store
	if res := mustAppend(t, s, Entries(t, "svc", 0, 10)); res.Stored != 10 || res.Heads["svc"].Seq != 10 {
		t.Fatalf("first append: %+v", res)
	}
	batch := append(Entries(t, "svc", 5, 15), Entry(t, "svc", 14)) // 5 old, 5 new, one repeated within the batch
	res := mustAppend(t, s, batch)
	if res.Stored != 5 || res.Heads["svc"].Seq != 15 {
		t.Fatalf("second append: stored %d head %+v, want 5 and seq 15", res.Stored, res.Heads["svc"])
	}
	n, err := s.Count(t.Context(), "svc")
	if err != nil || n != 15 {
		t.Fatalf("count = %d, %v", n, err)
	}
	var seqs []int64
	if err := s.Scan(t.Context(), "svc", func(e audit.Entry) error { seqs = append(seqs, e.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	for i, q := range seqs {
		if q != int64(i+1) {
			t.Fatalf("sequence numbers %v are not 1..15", seqs)
		}
	}
}

func testChainsArePerService(t *testing.T, h Harness) {
	s := h.Store
	mixed := append(Entries(t, "a", 0, 3), Entries(t, "b", 0, 2)...)
	res := mustAppend(t, s, mixed)
	if res.Heads["a"].Seq != 3 || res.Heads["b"].Seq != 2 {
		t.Fatalf("heads %+v", res.Heads)
	}
	svcs, err := s.Services(t.Context())
	if err != nil || len(svcs) != 2 || svcs[0] != "a" || svcs[1] != "b" {
		t.Fatalf("services = %v, %v", svcs, err)
	}
	if n, _ := s.Count(t.Context(), ""); n != 5 {
		t.Fatalf("total count %d", n)
	}
}

func testGetAndNotFound(t *testing.T, h Harness) {
	s := h.Store
	want := Entry(t, "svc", 7)
	mustAppend(t, s, []audit.Entry{want})
	got, err := s.Get(t.Context(), want.DecisionID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Index != want.Index || string(got.Data) != string(want.Data) || got.Seq != 1 || got.Hash == "" {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if _, err := s.Get(t.Context(), "nope"); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func testQueryFilters(t *testing.T, h Harness) {
	s := h.Store
	mustAppend(t, s, append(Entries(t, "svc", 0, 20), Entries(t, "other", 0, 5)...))
	cases := []struct {
		name string
		f    audit.Filter
		want int
	}{
		{"all", audit.Filter{Limit: 100}, 25},
		{"service", audit.Filter{Service: "svc", Limit: 100}, 20},
		{"subject", audit.Filter{Service: "svc", SubjectID: "user1", Limit: 100}, 7},
		{"deny", audit.Filter{Service: "svc", Decision: "Deny", Limit: 100}, 10},
		{"action", audit.Filter{Service: "svc", Action: "write", Limit: 100}, 10},
		{"resource", audit.Filter{ResourceType: "todo", ResourceID: "t3", Limit: 100}, 2},
		{"revision", audit.Filter{Service: "svc", Revision: 2, Limit: 100}, 10},
		{"time", audit.Filter{Service: "svc", Since: base.Add(5 * time.Second), Until: base.Add(8 * time.Second), Limit: 100}, 3},
	}
	for _, c := range cases {
		p, err := s.Query(t.Context(), c.f)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(p.Entries) != c.want || p.Next != "" {
			t.Errorf("%s: %d entries (next %q), want %d", c.name, len(p.Entries), p.Next, c.want)
		}
	}
}

func testQueryPages(t *testing.T, h Harness) {
	s := h.Store
	mustAppend(t, s, Entries(t, "svc", 0, 25))
	seen := map[string]bool{}
	var last time.Time
	f := audit.Filter{Service: "svc", Limit: 10}
	pages := 0
	for {
		p, err := s.Query(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range p.Entries {
			if seen[e.DecisionID] {
				t.Fatalf("%s on two pages", e.DecisionID)
			}
			if !last.IsZero() && e.Time.After(last) {
				t.Fatal("not newest first")
			}
			seen[e.DecisionID], last = true, e.Time
		}
		if p.Next == "" {
			break
		}
		// Records ingested meanwhile do not disturb the cursor.
		if pages == 1 {
			mustAppend(t, s, Entries(t, "svc", 100, 101))
		}
		f.PageToken = p.Next
	}
	if pages != 3 || len(seen) != 25 {
		t.Fatalf("%d pages, %d records; want 3 and 25", pages, len(seen))
	}
}

func testQueryRejectsBadPageToken(t *testing.T, h Harness) {
	if _, err := h.Store.Query(t.Context(), audit.Filter{PageToken: "!!"}); !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}

// signed appends n records of svc and returns the signer's keys and a
// checkpoint of the head.
func signed(t *testing.T, s audit.Store, n int) (audit.Keys, audit.Checkpoint) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signer := audit.NewSigner(priv)
	res := mustAppend(t, s, Entries(t, "svc", 0, n))
	return audit.NewKeys(signer.PublicKey()), signer.Sign("svc", res.Heads["svc"], time.Now())
}

func verify(t *testing.T, s audit.Store, keys audit.Keys, cps ...audit.Checkpoint) audit.Report {
	t.Helper()
	rep, err := audit.Verify(t.Context(), s, keys, "svc", cps...)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func expect(t *testing.T, rep audit.Report, kind audit.ProblemKind, seq int64) {
	t.Helper()
	if rep.Intact {
		t.Fatalf("tampering not detected: %+v", rep)
	}
	for _, p := range rep.Problems {
		if p.Kind == kind && p.Seq == seq {
			return
		}
	}
	t.Fatalf("no %s problem at %d: %+v", kind, seq, rep.Problems)
}

func testVerifyIntact(t *testing.T, h Harness) {
	keys, cp := signed(t, h.Store, 20)
	rep := verify(t, h.Store, keys, cp)
	if !rep.Intact || rep.Checked != 20 || rep.Last != 20 || rep.HeadHash != cp.Hash || rep.Checkpoint == nil {
		t.Fatalf("report %+v", rep)
	}
	forged := cp
	forged.Seq = 25
	rep = verify(t, h.Store, keys, forged)
	expect(t, rep, audit.ProblemBadSignature, 25)
}

func testVerifyDetectsModification(t *testing.T, h Harness) {
	keys, cp := signed(t, h.Store, 20)
	e, err := h.Store.Get(t.Context(), "svc-000004")
	if err != nil {
		t.Fatal(err)
	}
	edited := []byte(string(e.Data[:len(e.Data)-1]) + `,"extra":1}`)
	if err := h.Exec(t.Context(), `UPDATE decisions SET data = ? WHERE decision_id = ?`, string(edited), "svc-000004"); err != nil {
		t.Fatal(err)
	}
	expect(t, verify(t, h.Store, keys, cp), audit.ProblemModified, e.Seq)
}

func testVerifyDetectsIndexEdit(t *testing.T, h Harness) {
	keys, cp := signed(t, h.Store, 20)
	if err := h.Exec(t.Context(), `UPDATE decisions SET decision = ? WHERE decision_id = ?`, "Permit", "svc-000005"); err != nil {
		t.Fatal(err)
	}
	expect(t, verify(t, h.Store, keys, cp), audit.ProblemModified, 6)
}

func testVerifyDetectsDeletion(t *testing.T, h Harness) {
	keys, cp := signed(t, h.Store, 20)
	if err := h.Exec(t.Context(), `DELETE FROM decisions WHERE decision_id = ?`, "svc-000009"); err != nil {
		t.Fatal(err)
	}
	expect(t, verify(t, h.Store, keys, cp), audit.ProblemMissing, 10)
}

func testVerifyDetectsTruncation(t *testing.T, h Harness) {
	keys, cp := signed(t, h.Store, 20)
	if err := h.Exec(t.Context(), `DELETE FROM decisions WHERE seq > ?`, 17); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, h.Store, keys, cp)
	expect(t, rep, audit.ProblemTruncated, 18)
	if rep.Last != 17 {
		t.Fatalf("last = %d", rep.Last)
	}
	// Without the checkpoint the shortened chain is self-consistent: that
	// is why checkpoints live outside the store.
	if !verify(t, h.Store, keys).Intact {
		t.Fatal("a truncated chain without checkpoints should look intact")
	}
}

// testVerifyDetectsRewrite edits a record and recomputes every hash after
// it, as an attacker who knows the scheme would; only the checkpoint
// catches it.
func testVerifyDetectsRewrite(t *testing.T, h Harness) {
	keys, cp := signed(t, h.Store, 10)
	var all []audit.Entry
	if err := h.Store.Scan(t.Context(), "svc", func(e audit.Entry) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	prev := ""
	for i, e := range all {
		data := e.Data
		if i == 3 {
			data = []byte(string(e.Data[:len(e.Data)-1]) + `,"x":1}`)
		}
		hash := audit.ChainHash(e.Service, e.Seq, prev, data)
		if err := h.Exec(t.Context(), `UPDATE decisions SET data = ?, prev_hash = ?, hash = ? WHERE decision_id = ?`, string(data), prev, hash, e.DecisionID); err != nil {
			t.Fatal(err)
		}
		prev = hash
	}
	rep := verify(t, h.Store, keys, cp)
	expect(t, rep, audit.ProblemCheckpointMismatch, 10)
	if verify(t, h.Store, keys).Problems != nil {
		t.Fatal("the rewritten chain should be self-consistent without checkpoints")
	}
}

func testClose(t *testing.T, h Harness) {
	if err := h.Store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := h.Store.Count(t.Context(), ""); !errors.Is(err, audit.ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}

func newTestSigner(t *testing.T) *audit.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return audit.NewSigner(priv)
}

func testRetentionKeepsChainVerifiable(t *testing.T, h Harness) {
	s := h.Store
	signer := newTestSigner(t)
	keys := audit.NewKeys(signer.PublicKey())
	res := mustAppend(t, s, Entries(t, "svc", 0, 20))
	cp := signer.Sign("svc", res.Heads["svc"], time.Now())
	tomb, err := audit.Retain(t.Context(), s, signer, "svc", base.Add(8*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if tomb.First != 1 || tomb.Last != 8 {
		t.Fatalf("tombstone %+v, want 1..8", tomb)
	}
	if n, _ := s.Count(t.Context(), "svc"); n != 12 {
		t.Fatalf("%d records left, want 12", n)
	}
	rep := verify(t, s, keys, cp)
	if !rep.Intact || rep.First != 9 || rep.Last != 20 || len(rep.Tombstones) != 1 {
		t.Fatalf("after retention: %+v", rep)
	}
	if _, err := audit.Retain(t.Context(), s, signer, "svc", base); !errors.Is(err, audit.ErrNothingToRetain) {
		t.Fatalf("retain nothing: %v", err)
	}
	// Deleting the record right after the tombstone is still detected.
	if err := h.Exec(t.Context(), `DELETE FROM decisions WHERE seq = ?`, 9); err != nil {
		t.Fatal(err)
	}
	expect(t, verify(t, s, keys, cp), audit.ProblemMissing, 9)
}

func testForgedTombstoneIsReported(t *testing.T, h Harness) {
	keys, cp := signed(t, h.Store, 10)
	if err := h.Exec(t.Context(), `DELETE FROM decisions WHERE seq >= ? AND seq <= ?`, 3, 4); err != nil {
		t.Fatal(err)
	}
	forger := newTestSigner(t)
	forged := forger.SignTombstone("svc", 3, 4, "sha256:00", time.Now())
	if err := h.Store.Retain(t.Context(), forged); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, h.Store, keys, cp)
	expect(t, rep, audit.ProblemBadSignature, 3)
	expect(t, rep, audit.ProblemMissing, 3)
}
