package store_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pap/store"
)

func TestValidateService(t *testing.T) {
	valid := []string{"a", "0", "orders", "orders-v2", "a-", "0-0", strings.Repeat("a", 63)}
	invalid := []string{"", "-a", "A", "orders_v2", "orders.v2", "orders v2", "orders*", "orders>", "ordérs", strings.Repeat("a", 64), "a\x00"}
	for _, name := range valid {
		if err := store.ValidateService(name); err != nil {
			t.Errorf("ValidateService(%q) = %v, want nil", name, err)
		}
	}
	for _, name := range invalid {
		if err := store.ValidateService(name); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ValidateService(%q) = %v, want ErrInvalid", name, err)
		}
	}
}

func TestPageOptionsSize(t *testing.T) {
	tests := []struct {
		opts    store.PageOptions
		want    int
		invalid bool
	}{
		{store.PageOptions{}, store.DefaultPageSize, false},
		{store.PageOptions{Limit: 1}, 1, false},
		{store.PageOptions{Limit: store.MaxPageSize, Before: 7}, store.MaxPageSize, false},
		{store.PageOptions{Limit: store.MaxPageSize + 1}, 0, true},
		{store.PageOptions{Limit: -1}, 0, true},
		{store.PageOptions{Before: -1}, 0, true},
	}
	for _, tc := range tests {
		got, err := tc.opts.Size()
		if tc.invalid != errors.Is(err, store.ErrInvalid) || (!tc.invalid && (err != nil || got != tc.want)) {
			t.Errorf("%+v.Size() = %d, %v; want %d (invalid: %t)", tc.opts, got, err, tc.want, tc.invalid)
		}
	}
}

func TestSummaryAction(t *testing.T) {
	if got := (store.Summary{Number: 2, Parent: 1}).Action(); got != store.ActionPush {
		t.Errorf("Action of an ordinary revision = %q, want push", got)
	}
	if got := (store.Summary{Number: 3, Parent: 2, RollbackOf: 1}).Action(); got != store.ActionRollback {
		t.Errorf("Action of a rollback = %q, want rollback", got)
	}
}
