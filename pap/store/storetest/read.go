package storetest

import (
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pap/store"
)

func testNotFoundAndInvalidLookups(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.Get(ctx, "orders", 1)
	wantErr(t, "Get on an empty store", err, store.ErrNotFound)
	_, err = s.Latest(ctx, "orders")
	wantErr(t, "Latest on an empty store", err, store.ErrNotFound)
	_, err = s.List(ctx, "orders", store.PageOptions{})
	wantErr(t, "List on an empty store", err, store.ErrNotFound)

	pushN(t, s, "orders", 2)
	_, err = s.Get(ctx, "orders", 3)
	wantErr(t, "Get past the head", err, store.ErrNotFound)
	_, err = s.Get(ctx, "billing", 1)
	wantErr(t, "Get of an unknown service", err, store.ErrNotFound)
	_, err = s.Latest(ctx, "billing")
	wantErr(t, "Latest of an unknown service", err, store.ErrNotFound)
	_, err = s.List(ctx, "billing", store.PageOptions{})
	wantErr(t, "List of an unknown service", err, store.ErrNotFound)

	_, err = s.Get(ctx, "orders", 0)
	wantErr(t, "Get of revision 0", err, store.ErrInvalid)
	_, err = s.Get(ctx, "orders", -1)
	wantErr(t, "Get of revision -1", err, store.ErrInvalid)
	_, err = s.Get(ctx, "Orders", 1)
	wantErr(t, "Get with a bad service name", err, store.ErrInvalid)
	_, err = s.Latest(ctx, "orders.v2")
	wantErr(t, "Latest with a bad service name", err, store.ErrInvalid)
	_, err = s.List(ctx, "", store.PageOptions{})
	wantErr(t, "List with an empty service name", err, store.ErrInvalid)
}

func testServices(t *testing.T, s store.Store) {
	services, err := s.Services(t.Context())
	if err != nil {
		t.Fatalf("Services on an empty store: %v", err)
	}
	if len(services) != 0 {
		t.Fatalf("Services on an empty store = %v, want none", services)
	}

	// Byte order, which collation-aware sorting would get wrong: '-' sorts
	// before letters and digits before letters.
	heads := map[string]int{"b-svc": 2, "ab": 1, "a-c": 3, "a": 1, "a0": 1}
	latest := map[string]store.Revision{}
	for name, n := range heads {
		revs := pushN(t, s, name, n)
		latest[name] = revs[n-1]
	}
	services, err = s.Services(t.Context())
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	want := []string{"a", "a-c", "a0", "ab", "b-svc"}
	if len(services) != len(want) {
		t.Fatalf("Services returned %d services %v, want %v", len(services), services, want)
	}
	for i, svc := range services {
		if svc.Name != want[i] {
			t.Fatalf("Services()[%d] = %q, want %q (order %v)", i, svc.Name, want[i], want)
		}
		if svc.Head != int64(heads[svc.Name]) {
			t.Errorf("service %q head = %d, want %d", svc.Name, svc.Head, heads[svc.Name])
		}
		if created := latest[svc.Name].CreatedAt; !svc.UpdatedAt.Equal(created) || svc.UpdatedAt.Location() != time.UTC {
			t.Errorf("service %q updated at %s, want its head's creation time %s in UTC", svc.Name, svc.UpdatedAt, created)
		}
	}
}

func testListPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	revs := pushN(t, s, "orders", 7)
	pushN(t, s, "billing", 2) // must not appear in orders' listing
	want := func(numbers ...int64) []store.Summary {
		out := make([]store.Summary, len(numbers))
		for i, n := range numbers {
			out[i] = revs[n-1].Summary
		}
		return out
	}
	list := func(opts store.PageOptions) store.Page[store.Summary] {
		t.Helper()
		page, err := s.List(ctx, "orders", opts)
		if err != nil {
			t.Fatalf("List(%+v): %v", opts, err)
		}
		return page
	}

	page := list(store.PageOptions{Limit: 3})
	checkSameSummaries(t, "first page", page.Items, want(7, 6, 5))
	if page.Next != 5 {
		t.Fatalf("first page Next = %d, want 5", page.Next)
	}
	page = list(store.PageOptions{Limit: 3, Before: page.Next})
	checkSameSummaries(t, "second page", page.Items, want(4, 3, 2))
	if page.Next != 2 {
		t.Fatalf("second page Next = %d, want 2", page.Next)
	}
	page = list(store.PageOptions{Limit: 3, Before: page.Next})
	checkSameSummaries(t, "last page", page.Items, want(1))
	if page.Next != 0 {
		t.Fatalf("last page Next = %d, want 0", page.Next)
	}

	page = list(store.PageOptions{})
	checkSameSummaries(t, "default page", page.Items, want(7, 6, 5, 4, 3, 2, 1))
	if page.Next != 0 {
		t.Errorf("default page Next = %d, want 0", page.Next)
	}
	page = list(store.PageOptions{Limit: 7})
	if len(page.Items) != 7 || page.Next != 0 {
		t.Errorf("page of exactly all revisions: %d items, Next %d, want 7 and 0", len(page.Items), page.Next)
	}
	page = list(store.PageOptions{Limit: 6})
	if len(page.Items) != 6 || page.Next != 2 {
		t.Errorf("page of all but one revision: %d items, Next %d, want 6 and 2", len(page.Items), page.Next)
	}
	page = list(store.PageOptions{Before: 1})
	if len(page.Items) != 0 || page.Next != 0 {
		t.Errorf("page before revision 1 = %v, Next %d, want empty", numbers(page.Items), page.Next)
	}
	page = list(store.PageOptions{Before: 100})
	checkSameSummaries(t, "cursor past the head", page.Items, want(7, 6, 5, 4, 3, 2, 1))

	for _, opts := range []store.PageOptions{{Limit: -1}, {Limit: store.MaxPageSize + 1}, {Before: -1}} {
		_, err := s.List(ctx, "orders", opts)
		wantErr(t, "List with bad page options", err, store.ErrInvalid)
	}
}
