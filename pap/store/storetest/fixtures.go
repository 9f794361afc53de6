package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pap/store"
)

// content returns content that differs for every n, with sources given out
// of name order so that canonical ordering is exercised.
func content(n int) store.Content {
	return store.Content{
		Sources: []store.Source{
			{Name: "policies/orders.yaml", Format: "xacml-yaml", Content: fmt.Appendf(nil, "policy: orders\nversion: %d\n", n)},
			{Name: "policies/Root.xml", Format: "xacml-xml", Content: fmt.Appendf(nil, `<PolicySet PolicySetId="root" Version="%d"/>`, n)},
			{Name: "policies/_shared.xml", Format: "xacml-xml", Content: []byte(`<Policy PolicyId="shared"/>`)},
		},
		RootPolicyID: "root",
		Rego: map[string]string{
			"verdict/root.rego":   fmt.Sprintf("package verdict.root\n\nversion := %d\n", n),
			"verdict/orders.rego": "package verdict.orders\n",
		},
		Data: fmt.Appendf(nil, `{"version":%d}`, n),
	}
}

// draft returns a valid draft of content(n) on top of parent.
func draft(service string, parent int64, n int) store.Draft {
	return store.Draft{
		Service: service,
		Parent:  parent,
		Content: content(n),
		Author:  "alice@example.com",
		Message: fmt.Sprintf("change %d", n),
	}
}

func mustCreate(t testing.TB, s store.Store, d store.Draft) store.Revision {
	t.Helper()
	rev, err := s.Create(t.Context(), d)
	if err != nil {
		t.Fatalf("Create(service %q, parent %d): %v", d.Service, d.Parent, err)
	}
	return rev
}

// pushN creates revisions 1..n of service, content(1)..content(n).
func pushN(t testing.TB, s store.Store, service string, n int) []store.Revision {
	t.Helper()
	revs := make([]store.Revision, n)
	for i := range n {
		revs[i] = mustCreate(t, s, draft(service, int64(i), i+1))
	}
	return revs
}

func mustGet(t testing.TB, s store.Store, service string, number int64) store.Revision {
	t.Helper()
	rev, err := s.Get(t.Context(), service, number)
	if err != nil {
		t.Fatalf("Get(%q, %d): %v", service, number, err)
	}
	return rev
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error = %v, want %v", what, err, want)
	}
}

// sameSummary reports whether two summaries are equal, comparing times as
// instants and requiring UTC.
func sameSummary(a, b store.Summary) bool {
	if !a.CreatedAt.Equal(b.CreatedAt) || a.CreatedAt.Location() != time.UTC || b.CreatedAt.Location() != time.UTC {
		return false
	}
	a.CreatedAt, b.CreatedAt = time.Time{}, time.Time{}
	return a == b
}

func checkSameRevision(t testing.TB, what string, got, want store.Revision) {
	t.Helper()
	if !sameSummary(got.Summary, want.Summary) || !reflect.DeepEqual(got.Content, want.Content) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

func checkSameSummaries(t testing.TB, what string, got, want []store.Summary) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d items %v, want %d %v", what, len(got), numbers(got), len(want), numbers(want))
	}
	for i := range got {
		if !sameSummary(got[i], want[i]) {
			t.Fatalf("%s: item %d:\n got  %+v\n want %+v", what, i, got[i], want[i])
		}
	}
}

func numbers(sums []store.Summary) []int64 {
	out := make([]int64, len(sums))
	for i, s := range sums {
		out[i] = s.Number
	}
	return out
}

// checkNothingStored fails unless the store still has exactly the given
// services with the given heads and that many changes in total.
func checkNothingStored(t testing.TB, s store.Store, heads map[string]int64) {
	t.Helper()
	services, err := s.Services(t.Context())
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	got := map[string]int64{}
	var total int64
	for _, svc := range services {
		got[svc.Name] = svc.Head
	}
	for _, h := range heads {
		total += h
	}
	if !reflect.DeepEqual(got, heads) && !(len(got) == 0 && len(heads) == 0) {
		t.Fatalf("services and heads = %v, want %v", got, heads)
	}
	page, err := s.Changes(t.Context(), store.ChangeQuery{Page: store.PageOptions{Limit: store.MaxPageSize}})
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	if int64(len(page.Items)) != total {
		t.Fatalf("change log has %d entries, want %d", len(page.Items), total)
	}
}
