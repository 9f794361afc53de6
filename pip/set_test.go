package pip

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// described is a provider that describes itself, with a description the
// test can change (as a reloaded file would).
type described struct {
	Provider
	d Description
}

func (p *described) Describe() Description { return p.d }

func TestNewSetValidates(t *testing.T) {
	p := newRecorder(nil)
	d := Description{Key: AttributeRef{Category: CategoryAccessSubject, ID: "id"}}
	tests := []struct {
		name    string
		sources []Source
	}{
		{"no name", []Source{{Provider: p, Description: d}}},
		{"duplicate name", []Source{{Name: "a", Provider: p, Description: d}, {Name: "a", Provider: p, Description: d}}},
		{"no provider", []Source{{Name: "a", Description: d}}},
		{"no description", []Source{{Name: "a", Provider: p}}},
		{"key without category", []Source{{Name: "a", Provider: p, Description: Description{Key: AttributeRef{ID: "id"}}}}},
		{"describer without key", []Source{{Name: "a", Provider: &described{Provider: p}}}},
	}
	for _, tt := range tests {
		if _, err := NewSet(tt.sources...); !errors.Is(err, ErrInvalidSource) {
			t.Errorf("%s: error = %v, want ErrInvalidSource", tt.name, err)
		}
	}
	if _, err := NewSet(Source{Name: "a", Provider: p, Description: d}); err != nil {
		t.Fatal(err)
	}
}

func TestSetResolve(t *testing.T) {
	subjects := newRecorder(users())
	extra := newRecorder(map[string]Values{"alice@example.com": {"roles": {"auditor"}}})
	resources := newRecorder(map[string]Values{"doc1": {"owner": {"alice"}}})
	dyn := &described{Provider: resources, d: Description{Key: AttributeRef{Category: CategoryResource, ID: "id"}, Attributes: []string{"owner"}}}
	set, err := NewSet(
		Source{Name: "users", Provider: subjects, Description: Description{Key: AttributeRef{Category: CategoryAccessSubject, ID: "id"}}},
		Source{Name: "by-email", Provider: Wrap(extra), Description: Description{Key: AttributeRef{Category: CategoryAccessSubject, ID: "email"}, Attributes: []string{"roles"}}},
		Source{Name: "docs", Provider: Wrap(dyn)},
	)
	if err != nil {
		t.Fatal(err)
	}
	request := map[AttributeRef][]string{
		{Category: CategoryAccessSubject, ID: "id"}:    {"alice", "alice"},
		{Category: CategoryAccessSubject, ID: "email"}: {"alice@example.com"},
		{Category: CategoryResource, ID: "id"}:         {"doc1"},
	}
	keys := func(ref AttributeRef) []string { return request[ref] }
	m := NewMemo()

	roles, err := set.Resolve(t.Context(), m, CategoryAccessSubject, "roles", keys)
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{"admin", "editor", "auditor"}; !reflect.DeepEqual(roles, want) {
		t.Fatalf("roles = %v, want %v (union of both sources, key deduplicated)", roles, want)
	}
	// "age" is not in by-email's attribute list: only users is asked.
	before := extra.calls.Load()
	age, err := set.Resolve(t.Context(), m, CategoryAccessSubject, "age", keys)
	if err != nil || !reflect.DeepEqual(age, []any{int64(41)}) {
		t.Fatalf("age = %v, %v", age, err)
	}
	if extra.calls.Load() != before {
		t.Fatal("a source that does not supply the attribute was asked")
	}
	owner, err := set.Resolve(t.Context(), m, CategoryResource, "owner", keys)
	if err != nil || !reflect.DeepEqual(owner, []any{"alice"}) {
		t.Fatalf("owner = %v, %v", owner, err)
	}
	// No source for the category, or no key in the request: empty bag.
	if bag, err := set.Resolve(t.Context(), m, CategoryAction, "name", keys); err != nil || len(bag) != 0 {
		t.Fatalf("action bag = %v, %v", bag, err)
	}
	if bag, err := set.Resolve(t.Context(), m, CategoryResource, "owner", func(AttributeRef) []string { return nil }); err != nil || len(bag) != 0 {
		t.Fatalf("keyless bag = %v, %v", bag, err)
	}
	// Descriptions are asked afresh: the resource provider now supplies
	// "title" too.
	dyn.d.Attributes = []string{"owner", "title"}
	if got := set.Candidates(CategoryResource, "title"); len(got) != 1 || got[0].Name != "docs" {
		t.Fatalf("candidates after description change = %v", got)
	}
	if n := subjects.calls.Load(); n != 2 {
		t.Fatalf("users calls = %d, want 2 (roles, age; alice once each)", n)
	}
	if got := len(set.Sources()); got != 3 {
		t.Fatalf("Sources() has %d entries", got)
	}
	if set.Sources()[2].Description.Key.ID != "id" {
		t.Fatal("Sources() lacks the described key")
	}
}

func TestSetResolveFailureIsAnError(t *testing.T) {
	boom := errors.New("down")
	failing := ProviderFunc(func(context.Context, Query) (Values, error) { return nil, boom })
	set, err := NewSet(Source{Name: "users", Provider: failing, Description: Description{Key: AttributeRef{Category: CategoryAccessSubject, ID: "id"}}})
	if err != nil {
		t.Fatal(err)
	}
	bag, err := set.Resolve(t.Context(), nil, CategoryAccessSubject, "roles", func(AttributeRef) []string { return []string{"alice"} })
	if !errors.Is(err, boom) || bag != nil {
		t.Fatalf("Resolve = %v, %v; want a failure, never an empty bag", bag, err)
	}
}

func TestDescriptionSupplies(t *testing.T) {
	d := Description{Key: AttributeRef{Category: CategoryAccessSubject, ID: "id"}, Attributes: []string{"roles"}}
	if !d.Supplies(CategoryAccessSubject, "roles") || d.Supplies(CategoryAccessSubject, "age") || d.Supplies(CategoryResource, "roles") {
		t.Fatal("Supplies with an attribute list is wrong")
	}
	d.Attributes = nil
	if !d.Supplies(CategoryAccessSubject, "anything") {
		t.Fatal("an unknown attribute list must supply anything of the category")
	}
	d.Category = CategoryResource
	if d.SuppliedCategory() != CategoryResource || d.Supplies(CategoryAccessSubject, "x") {
		t.Fatal("an explicit category must override the key's")
	}
}

func TestParseCategory(t *testing.T) {
	for in, want := range map[string]string{
		"subject": CategoryAccessSubject, "Access-Subject": CategoryAccessSubject, "resource": CategoryResource,
		"action": CategoryAction, "environment": CategoryEnvironment, "context": CategoryEnvironment,
		"urn:example:category:custom": "urn:example:category:custom",
	} {
		if got, err := ParseCategory(in); err != nil || got != want {
			t.Errorf("ParseCategory(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseCategory("user"); !errors.Is(err, ErrUnknownCategory) {
		t.Fatalf("ParseCategory(user) error = %v, want ErrUnknownCategory", err)
	}
}
