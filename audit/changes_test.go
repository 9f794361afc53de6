package audit_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/pap/store"
	papsqlite "github.com/verdict-authz/verdict/pap/store/sqlite"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// recordingDiffer stands in for the PAP's Diff and remembers what it was
// asked.
type recordingDiffer struct {
	mu    sync.Mutex
	asked []*verdictv1.DiffRequest
}

func (d *recordingDiffer) Diff(_ context.Context, req *verdictv1.DiffRequest) (*verdictv1.DiffResponse, error) {
	d.mu.Lock()
	d.asked = append(d.asked, req)
	d.mu.Unlock()
	return &verdictv1.DiffResponse{
		Files:    []*verdictv1.FileDiff{{Path: "p.yaml", Change: verdictv1.ChangeType_CHANGE_TYPE_MODIFIED, UnifiedDiff: "--- a/p.yaml\n+++ b/p.yaml\n"}},
		Policies: []*verdictv1.PolicyChange{{Policy: &verdictv1.PolicyIdentifier{Id: "p"}, Change: verdictv1.ChangeType_CHANGE_TYPE_MODIFIED}},
	}, nil
}

func changeStore(t *testing.T) store.Store {
	t.Helper()
	st, err := papsqlite.Open(t.Context(), filepath.Join(t.TempDir(), "pap.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for i, text := range []string{"policy: p\n", "policy: p\n# edited\n"} {
		sources := []store.Source{{Name: "p.yaml", Format: "xacml-yaml", Content: []byte(text)}}
		if i == 1 {
			sources = append(sources, store.Source{Name: "q.yaml", Format: "xacml-yaml", Content: []byte("policy: q\n")})
		}
		if _, err := st.Create(t.Context(), store.Draft{Service: "orders", Parent: int64(i), Author: "alice", Content: store.Content{Sources: sources, RootPolicyID: "p", Rego: map[string]string{"verdict/main.rego": "package verdict.main\n"}}}); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// TestChangesAskThePAPsDiff: each revision with a parent is diffed by the
// PAP (parent -> revision), whose unified diffs are dropped unless asked
// for; a first revision lists its files as added, with their content.
func TestChangesAskThePAPsDiff(t *testing.T) {
	d := &recordingDiffer{}
	svc := audit.NewService(openStore(t), nil, nil, nil, changeStore(t), audit.WithDiffer(d))
	resp, err := svc.Changes(t.Context(), &verdictv1.ChangesRequest{Service: "orders", IncludeDiffs: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetChanges()) != 2 || len(d.asked) != 1 || d.asked[0].GetFromRevision() != 1 || d.asked[0].GetToRevision() != 2 || d.asked[0].GetService() != "orders" {
		t.Fatalf("changes %v, diffs asked %v", resp, d.asked)
	}
	second, first := resp.GetChanges()[0], resp.GetChanges()[1]
	if len(second.GetPolicies()) != 1 || second.GetFiles()[0].GetUnifiedDiff() == "" || second.GetRevision().GetAuthor() != "alice" {
		t.Fatalf("revision 2: %v", second)
	}
	if f := first.GetFiles(); len(f) != 1 || f[0].GetChange() != verdictv1.ChangeType_CHANGE_TYPE_ADDED ||
		f[0].GetUnifiedDiff() != "--- /dev/null\n+++ b/p.yaml\n@@ -0,0 +1,1 @@\n+policy: p\n" {
		t.Fatalf("revision 1: %v", first)
	}
	resp, err = svc.Changes(t.Context(), &verdictv1.ChangesRequest{Service: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range resp.GetChanges() {
		for _, f := range c.GetFiles() {
			if f.GetUnifiedDiff() != "" {
				t.Fatalf("diff of %s returned without include_diffs", f.GetPath())
			}
		}
	}
}

// TestChangesWithoutThePAP lists the changed files from the stored
// revisions when no PAP is configured.
func TestChangesWithoutThePAP(t *testing.T) {
	svc := audit.NewService(openStore(t), nil, nil, nil, changeStore(t))
	resp, err := svc.Changes(t.Context(), &verdictv1.ChangesRequest{Service: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range resp.GetChanges()[0].GetFiles() {
		got = append(got, f.GetPath()+" "+f.GetChange().String())
	}
	if strings.Join(got, ", ") != "p.yaml CHANGE_TYPE_MODIFIED, q.yaml CHANGE_TYPE_ADDED" {
		t.Fatalf("revision 2 files: %v", got)
	}
}
