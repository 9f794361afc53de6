package audit

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/verdict-authz/verdict/pap/store"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// RevisionReader reads a stored revision with its content; a ChangeSource
// that also implements it (pap/store.Store does) lets Changes list the
// files each revision changed relative to its parent.
type RevisionReader interface {
	Get(ctx context.Context, service string, number int64) (store.Revision, error)
}

// Differ is the PAP's Diff (PolicyAdminService.Diff, which a Connect or
// gRPC client adapts): Changes asks it what each revision changed relative
// to its parent, so that the audit log shows the same file diffs and policy
// changes as `verdict policy diff`, computed in one place.
type Differ interface {
	Diff(ctx context.Context, req *verdictv1.DiffRequest) (*verdictv1.DiffResponse, error)
}

// changeDiff fills entry with what revision c changed relative to its
// parent: through the PAP's Diff when the service has one, else (or for a
// first revision, which has no parent to diff against) from the stored
// revisions. Unified diffs are kept only when withDiffs is set.
func (s *Service) changeDiff(ctx context.Context, c store.Change, entry *verdictv1.PolicyChangeEntry, withDiffs bool) error {
	if s.differ != nil && c.Parent > 0 {
		d, err := s.differ.Diff(ctx, &verdictv1.DiffRequest{Service: c.Service, FromRevision: c.Parent, ToRevision: c.Number})
		if err != nil {
			return fmt.Errorf("audit: diff of %s revision %d against %d: %w", c.Service, c.Number, c.Parent, err)
		}
		entry.Files, entry.Policies = d.GetFiles(), d.GetPolicies()
		if !withDiffs {
			for _, f := range entry.Files {
				f.UnifiedDiff = ""
			}
		}
		return nil
	}
	r, ok := s.changes.(RevisionReader)
	if !ok {
		return nil
	}
	files, err := fileChanges(ctx, r, c, withDiffs && c.Parent == 0)
	if err != nil {
		return err
	}
	entry.Files = files
	return nil
}

// fileChanges lists the source files that differ between a revision and
// its parent (every file for a first revision), sorted by path. With
// added, files new in the revision carry their whole content as a diff
// (the diff of a first revision, which has no parent).
func fileChanges(ctx context.Context, r RevisionReader, c store.Change, added bool) ([]*verdictv1.FileDiff, error) {
	rev, err := r.Get(ctx, c.Service, c.Number)
	if err != nil {
		return nil, err
	}
	before := map[string][]byte{}
	if c.Parent > 0 {
		parent, err := r.Get(ctx, c.Service, c.Parent)
		if err != nil {
			return nil, err
		}
		for _, s := range parent.Content.Sources {
			before[s.Name] = s.Content
		}
	}
	var out []*verdictv1.FileDiff
	for _, s := range rev.Content.Sources {
		old, ok := before[s.Name]
		switch {
		case !ok:
			f := &verdictv1.FileDiff{Path: s.Name, Change: verdictv1.ChangeType_CHANGE_TYPE_ADDED}
			if added {
				f.UnifiedDiff = addedDiff(s.Name, s.Content)
			}
			out = append(out, f)
		case !bytes.Equal(old, s.Content):
			out = append(out, &verdictv1.FileDiff{Path: s.Name, Change: verdictv1.ChangeType_CHANGE_TYPE_MODIFIED})
		}
		delete(before, s.Name)
	}
	for name := range before {
		out = append(out, &verdictv1.FileDiff{Path: name, Change: verdictv1.ChangeType_CHANGE_TYPE_REMOVED})
	}
	slices.SortFunc(out, func(a, b *verdictv1.FileDiff) int { return strings.Compare(a.GetPath(), b.GetPath()) })
	return out, nil
}

// addedDiff is the unified diff of a new file: every line added.
func addedDiff(path string, content []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- /dev/null\n+++ b/%s\n", path)
	if !utf8.Valid(content) {
		b.WriteString("Binary files differ\n")
		return b.String()
	}
	text := string(content)
	if text == "" {
		return b.String()
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	fmt.Fprintf(&b, "@@ -0,0 +1,%d @@\n", len(lines))
	for _, l := range lines {
		b.WriteString("+" + l)
		if !strings.HasSuffix(l, "\n") {
			b.WriteString("\n\\ No newline at end of file\n")
		}
	}
	return b.String()
}
