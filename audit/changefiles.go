package audit

import (
	"bytes"
	"context"
	"slices"
	"strings"

	"github.com/verdict-authz/verdict/pap/store"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// RevisionReader reads a stored revision with its content; a ChangeSource
// that also implements it (pap/store.Store does) lets Changes list the
// files each revision changed relative to its parent.
type RevisionReader interface {
	Get(ctx context.Context, service string, number int64) (store.Revision, error)
}

// fileChanges lists the source files that differ between a revision and
// its parent (every file for a first revision), sorted by path.
func fileChanges(ctx context.Context, r RevisionReader, c store.Change) ([]*verdictv1.FileDiff, error) {
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
			out = append(out, &verdictv1.FileDiff{Path: s.Name, Change: verdictv1.ChangeType_CHANGE_TYPE_ADDED})
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
