package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pap/store"
)

// history creates a small history across two services and three authors,
// with one rollback, and returns it in creation order.
func history(t *testing.T, s store.Store) []store.Revision {
	t.Helper()
	steps := []store.Draft{
		{Service: "orders", Parent: 0, Author: "alice", Message: "orders v1"},
		{Service: "orders", Parent: 1, Author: "bob", Message: "orders v2"},
		{Service: "billing", Parent: 0, Author: "alice", Message: "billing v1"},
		{Service: "orders", Parent: 2, RollbackOf: 1, Author: "carol", Message: "back to v1"},
		{Service: "billing", Parent: 1, Author: "bob", Message: "billing v2"},
		{Service: "orders", Parent: 3, Author: "alice", Message: "orders v3"},
	}
	revs := make([]store.Revision, len(steps))
	for i, d := range steps {
		d.Content = content(i)
		revs[i] = mustCreate(t, s, d)
	}
	return revs
}

// expectChanges returns the revisions keep selects, newest first.
func expectChanges(revs []store.Revision, keep func(store.Revision) bool) []store.Summary {
	var out []store.Summary
	for _, rev := range slices.Backward(revs) {
		if keep(rev) {
			out = append(out, rev.Summary)
		}
	}
	return out
}

func queryChanges(t *testing.T, s store.Store, q store.ChangeQuery) store.Page[store.Change] {
	t.Helper()
	page, err := s.Changes(t.Context(), q)
	if err != nil {
		t.Fatalf("Changes(%+v): %v", q, err)
	}
	for i, c := range page.Items {
		if c.Action != c.Summary.Action() {
			t.Fatalf("change %d (%s #%d) has action %q, its summary says %q", i, c.Service, c.Number, c.Action, c.Summary.Action())
		}
		if i > 0 && c.ID >= page.Items[i-1].ID {
			t.Fatalf("change IDs not strictly decreasing: %d after %d", c.ID, page.Items[i-1].ID)
		}
	}
	return page
}

func summaries(changes []store.Change) []store.Summary {
	out := make([]store.Summary, len(changes))
	for i, c := range changes {
		out[i] = c.Summary
	}
	return out
}

func testChangeLogFilters(t *testing.T, s store.Store) {
	empty := queryChanges(t, s, store.ChangeQuery{})
	if len(empty.Items) != 0 || empty.Next != 0 {
		t.Fatalf("change log of an empty store = %+v", empty)
	}
	revs := history(t, s)
	tests := map[string]struct {
		query store.ChangeQuery
		keep  func(store.Revision) bool
	}{
		"everything":       {store.ChangeQuery{}, func(store.Revision) bool { return true }},
		"service":          {store.ChangeQuery{Service: "orders"}, func(r store.Revision) bool { return r.Service == "orders" }},
		"author":           {store.ChangeQuery{Author: "alice"}, func(r store.Revision) bool { return r.Author == "alice" }},
		"service, author":  {store.ChangeQuery{Service: "billing", Author: "bob"}, func(r store.Revision) bool { return r.Service == "billing" && r.Author == "bob" }},
		"pushes":           {store.ChangeQuery{Action: store.ActionPush}, func(r store.Revision) bool { return r.RollbackOf == 0 }},
		"rollbacks":        {store.ChangeQuery{Action: store.ActionRollback}, func(r store.Revision) bool { return r.RollbackOf != 0 }},
		"unknown service":  {store.ChangeQuery{Service: "shipping"}, func(store.Revision) bool { return false }},
		"unknown author":   {store.ChangeQuery{Author: "mallory"}, func(store.Revision) bool { return false }},
		"author is exact":  {store.ChangeQuery{Author: "ALICE"}, func(store.Revision) bool { return false }},
		"rollbacks by bob": {store.ChangeQuery{Action: store.ActionRollback, Author: "bob"}, func(store.Revision) bool { return false }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			page := queryChanges(t, s, tc.query)
			checkSameSummaries(t, "changes", summaries(page.Items), expectChanges(revs, tc.keep))
			if page.Next != 0 {
				t.Errorf("Next = %d, want 0 for a single page", page.Next)
			}
		})
	}
	rollback := queryChanges(t, s, store.ChangeQuery{Action: store.ActionRollback}).Items
	if len(rollback) != 1 || rollback[0].Action != store.ActionRollback || rollback[0].RollbackOf != 1 || rollback[0].Parent != 2 {
		t.Errorf("rollback change = %+v, want orders #3, parent 2, rollback of 1", rollback)
	}
}

func testChangeLogTimeRange(t *testing.T, s store.Store) {
	revs := history(t, s)
	// Bounds at, just after and just before each creation time, including
	// sub-microsecond ones that must not be rounded the wrong way.
	var bounds []time.Time
	for _, rev := range revs {
		c := rev.CreatedAt
		bounds = append(bounds, c, c.Add(time.Nanosecond), c.Add(-time.Nanosecond), c.Add(time.Microsecond))
	}
	for _, since := range bounds {
		page := queryChanges(t, s, store.ChangeQuery{Since: since})
		want := expectChanges(revs, func(r store.Revision) bool { return !r.CreatedAt.Before(since) })
		checkSameSummaries(t, "changes since "+since.Format(time.RFC3339Nano), summaries(page.Items), want)
	}
	for _, until := range bounds {
		page := queryChanges(t, s, store.ChangeQuery{Until: until})
		want := expectChanges(revs, func(r store.Revision) bool { return r.CreatedAt.Before(until) })
		checkSameSummaries(t, "changes until "+until.Format(time.RFC3339Nano), summaries(page.Items), want)
	}
	since, until := revs[1].CreatedAt, revs[4].CreatedAt
	page := queryChanges(t, s, store.ChangeQuery{Service: "orders", Since: since, Until: until})
	want := expectChanges(revs, func(r store.Revision) bool {
		return r.Service == "orders" && !r.CreatedAt.Before(since) && r.CreatedAt.Before(until)
	})
	checkSameSummaries(t, "orders changes in a range", summaries(page.Items), want)

	// Times in other zones are instants like any other.
	local := time.FixedZone("UTC+5", 5*3600)
	page = queryChanges(t, s, store.ChangeQuery{Since: revs[3].CreatedAt.In(local)})
	checkSameSummaries(t, "changes since a zoned time", summaries(page.Items),
		expectChanges(revs, func(r store.Revision) bool { return !r.CreatedAt.Before(revs[3].CreatedAt) }))
}

func testChangeLogPages(t *testing.T, s store.Store) {
	revs := history(t, s)
	for _, q := range []store.ChangeQuery{{}, {Service: "orders"}, {Author: "alice"}} {
		all := expectChanges(revs, func(r store.Revision) bool {
			return (q.Service == "" || r.Service == q.Service) && (q.Author == "" || r.Author == q.Author)
		})
		for limit := 1; limit <= len(all)+1; limit++ {
			var got []store.Summary
			q.Page = store.PageOptions{Limit: limit}
			for pages := 1; ; pages++ {
				page := queryChanges(t, s, q)
				if len(page.Items) > limit {
					t.Fatalf("page of %d items with limit %d", len(page.Items), limit)
				}
				got = append(got, summaries(page.Items)...)
				if page.Next == 0 {
					break
				}
				if len(page.Items) == 0 {
					t.Fatalf("empty page with Next = %d", page.Next)
				}
				if page.Next != page.Items[len(page.Items)-1].ID {
					t.Fatalf("Next = %d, want the last item's ID %d", page.Next, page.Items[len(page.Items)-1].ID)
				}
				if pages > len(all) {
					t.Fatalf("more pages than changes with limit %d", limit)
				}
				q.Page.Before = page.Next
			}
			checkSameSummaries(t, "changes read page by page", got, all)
		}
	}
}

func testChangeLogRejectsInvalidQueries(t *testing.T, s store.Store) {
	history(t, s)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := map[string]store.ChangeQuery{
		"bad service":      {Service: "Orders"},
		"unknown action":   {Action: "delete"},
		"empty time range": {Since: at, Until: at},
		"reversed range":   {Since: at, Until: at.Add(-time.Hour)},
		"negative limit":   {Page: store.PageOptions{Limit: -1}},
		"huge limit":       {Page: store.PageOptions{Limit: store.MaxPageSize + 1}},
		"negative cursor":  {Page: store.PageOptions{Before: -5}},
		"bad author text":  {Author: "\xff"},
	}
	for name, q := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := s.Changes(t.Context(), q)
			wantErr(t, "Changes", err, store.ErrInvalid)
		})
	}
}
