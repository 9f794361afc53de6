package storetest

import (
	"testing"

	"github.com/verdict-authz/verdict/pap/store"
)

func testClose(t *testing.T, s store.Store) {
	pushN(t, s, "orders", 1)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	ctx := t.Context()
	_, err := s.Create(ctx, draft("orders", 1, 2))
	wantErr(t, "Create after Close", err, store.ErrClosed)
	_, err = s.Get(ctx, "orders", 1)
	wantErr(t, "Get after Close", err, store.ErrClosed)
	_, err = s.Latest(ctx, "orders")
	wantErr(t, "Latest after Close", err, store.ErrClosed)
	_, err = s.List(ctx, "orders", store.PageOptions{})
	wantErr(t, "List after Close", err, store.ErrClosed)
	_, err = s.Services(ctx)
	wantErr(t, "Services after Close", err, store.ErrClosed)
	_, err = s.Changes(ctx, store.ChangeQuery{})
	wantErr(t, "Changes after Close", err, store.ErrClosed)
}
