package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// TestAuditChangesShowDiffs pushes two revisions to the PAP of `verdict
// up` and lists them with `verdict audit changes`: who pushed which
// revision, and what it changed relative to its parent as the PAP's Diff
// computes it (policies, files, unified diffs), in table and JSON form,
// with paging as query has.
func TestAuditChangesShowDiffs(t *testing.T) {
	p := startUp(t)
	work := t.TempDir()
	for _, role := range []string{"admin", "superuser"} {
		if err := os.WriteFile(filepath.Join(work, "policy.yaml"), fmt.Appendf(nil, replayPolicy, role), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := p.cli(t, "policy", "push", "--service", "orders", "--message", "permit "+role, work); code != 0 {
			t.Fatalf("push %s: exit %d %s %s", role, code, out, errOut)
		}
	}

	code, out, errOut := p.cli(t, "audit", "changes", "--service", "orders")
	if code != 0 {
		t.Fatalf("changes: exit %d\n%s\n%s", code, out, errOut)
	}
	second, first, ok := strings.Cut(out, "\n\n")
	if !ok {
		t.Fatalf("changes: want two entries separated by a blank line:\n%s", out)
	}
	for _, want := range []string{
		"REV", "permit superuser",
		"policy modified policy urn:verdict:test:replay",
		"file modified policy.yaml",
		"--- a/policy.yaml", "+++ b/policy.yaml", "-  - id: admin-may", "+  - id: superuser-may", "-        value: admin", "+        value: superuser",
	} {
		if !strings.Contains(second, want) {
			t.Fatalf("revision 2 entry lacks %q:\n%s", want, second)
		}
	}
	for entry, want := range map[string][]string{second: {"orders", "2", "1", "push", "spiffe://verdict.local/service/admin"}, first: {"orders", "1", "0", "push", "spiffe://verdict.local/service/admin"}} {
		row := strings.Split(entry, "\n")[1]
		if got := strings.Fields(row); len(got) < 6 || !slices.Equal(got[1:6], want) {
			t.Fatalf("row %q, want service, revision, parent, kind, author %v", row, want)
		}
	}
	for _, want := range []string{"permit admin", "file added policy.yaml", "+++ b/policy.yaml", "+policy: urn:verdict:test:replay"} {
		if !strings.Contains(first, want) {
			t.Fatalf("revision 1 entry lacks %q:\n%s", want, first)
		}
	}

	code, out, _ = p.cli(t, "audit", "changes", "--service", "orders", "--diff=false")
	if code != 0 || !strings.Contains(out, "file modified policy.yaml") || strings.Contains(out, "+++") {
		t.Fatalf("changes --diff=false: exit %d\n%s", code, out)
	}
	page := func(args ...string) *verdictv1.ChangesResponse {
		t.Helper()
		code, out, errOut := p.cli(t, append([]string{"audit", "changes", "--service", "orders", "--output", "json"}, args...)...)
		resp := &verdictv1.ChangesResponse{}
		if err := protojson.Unmarshal([]byte(out), resp); code != 0 || err != nil {
			t.Fatalf("changes %v: exit %d, %v\n%s\n%s", args, code, err, out, errOut)
		}
		return resp
	}
	one := page("--limit", "1")
	if len(one.GetChanges()) != 1 || one.GetNextPageToken() == "" || one.GetChanges()[0].GetRevision().GetNumber() != 2 ||
		one.GetChanges()[0].GetFiles()[0].GetChange() != verdictv1.ChangeType_CHANGE_TYPE_MODIFIED || one.GetChanges()[0].GetFiles()[0].GetUnifiedDiff() == "" {
		t.Fatalf("changes --limit 1: %v", one)
	}
	rest := page("--limit", "1", "--page-token", one.GetNextPageToken())
	if len(rest.GetChanges()) != 1 || rest.GetChanges()[0].GetRevision().GetNumber() != 1 || rest.GetNextPageToken() != "" {
		t.Fatalf("changes, second page: %v", rest)
	}
	if all := page("--limit", "1", "--all"); len(all.GetChanges()) != 2 || all.GetNextPageToken() != "" {
		t.Fatalf("changes --all: %v", all)
	}
	code, out, _ = p.cli(t, "audit", "changes", "--service", "orders", "--author", "nobody@example.com")
	if code != 0 || strings.Contains(out, "orders") {
		t.Fatalf("changes by another author: exit %d\n%s", code, out)
	}
}
