package sdk_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/sdk"
)

func TestAuthZENMapping(t *testing.T) {
	req, err := sdk.ParseAuthZENRequest([]byte(`{
		"subject": {"type": "user", "id": "alice", "properties": {"roles": ["editor", "admin"], "age": 42, "fee": 27.50, "vip": true, "address": {"city": "Paris"}, "none": null}},
		"action": {"name": "can_read"},
		"resource": {"type": "todo", "id": "t1", "properties": {"ownerID": "alice@example.com", "tags": [{"k": "a"}, {"k": "b"}]}},
		"context": {"time": "2025-01-01T00:00:00Z"},
		"unknown": {"ignored": true}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	s := func(v string) pdp.Value { return pdp.Value{Type: "string", Lexical: v, Untyped: true} }
	want := []struct {
		cat, id string
		vals    []pdp.Value
	}{
		{pdp.CategorySubject, "type", []pdp.Value{s("user")}},
		{pdp.CategorySubject, "id", []pdp.Value{s("alice")}},
		{pdp.CategorySubject, "urn:oasis:names:tc:xacml:1.0:subject:subject-id", []pdp.Value{s("alice")}},
		{pdp.CategorySubject, "roles", []pdp.Value{s("editor"), s("admin")}},
		{pdp.CategorySubject, "age", []pdp.Value{{Type: "integer", Lexical: "42", Untyped: true}}},
		{pdp.CategorySubject, "fee", []pdp.Value{{Type: "double", Lexical: "27.50", Untyped: true}}},
		{pdp.CategorySubject, "vip", []pdp.Value{{Type: "boolean", Lexical: "true", Untyped: true}}},
		{pdp.CategorySubject, "address.city", []pdp.Value{s("Paris")}},
		{pdp.CategorySubject, "none", nil},
		{pdp.CategoryAction, "name", []pdp.Value{s("can_read")}},
		{pdp.CategoryAction, "urn:oasis:names:tc:xacml:1.0:action:action-id", []pdp.Value{s("can_read")}},
		{pdp.CategoryResource, "id", []pdp.Value{s("t1")}},
		{pdp.CategoryResource, "urn:oasis:names:tc:xacml:1.0:resource:resource-id", []pdp.Value{s("t1")}},
		{pdp.CategoryResource, "ownerID", []pdp.Value{s("alice@example.com")}},
		{pdp.CategoryResource, "tags.k", []pdp.Value{s("a"), s("b")}},
		{pdp.CategoryEnvironment, "time", []pdp.Value{s("2025-01-01T00:00:00Z")}},
	}
	for _, w := range want {
		if got := req.Get(w.cat, w.id); !slices.Equal(got, w.vals) {
			t.Errorf("%s %s = %v, want %v", w.cat, w.id, got, w.vals)
		}
	}
	if got := req.Get(pdp.CategorySubject, "properties"); got != nil {
		t.Errorf("properties became an attribute: %v", got)
	}
}

func TestAuthZENRefusesWhatItCannotMap(t *testing.T) {
	for _, body := range []string{
		`{"subject": "alice"}`,
		`{"subject": {"type": "user", "properties": [1]}}`,
		`{"context": 3}`,
		`{"subject": {"id": "a"}} {"again": 1}`,
		`[1, 2]`,
		`null`,
	} {
		if _, err := sdk.ParseAuthZENRequest([]byte(body)); !errors.Is(err, pdp.ErrBadRequest) {
			t.Errorf("ParseAuthZENRequest(%s) error = %v, want ErrBadRequest", body, err)
		}
	}
}

func TestAuthZENRefusedValueNamesItsPath(t *testing.T) {
	_, err := sdk.NewAuthZENRequest(map[string]any{
		"subject": map[string]any{"type": "user", "id": "alice", "properties": map[string]any{
			"address": map[string]any{"city": "Paris", "zip": json.Number("75x")},
		}},
	})
	if !errors.Is(err, pdp.ErrBadRequest) {
		t.Fatalf("error %v, want pdp.ErrBadRequest", err)
	}
	if want := "subject.properties.address.zip: invalid number"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %q", err, want)
	}
	_, err = sdk.NewAuthZENRequest(map[string]any{"context": map[string]any{"n": []any{json.Number("1"), json.Number("--")}}})
	if !errors.Is(err, pdp.ErrBadRequest) || !strings.Contains(err.Error(), "context.n: invalid number") {
		t.Fatalf("error %v, want the array member's path", err)
	}
}
