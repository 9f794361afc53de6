package jsonfile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pip"
)

var (
	_ pip.Provider  = (*Provider)(nil)
	_ pip.Lister    = (*Provider)(nil)
	_ pip.Describer = (*Provider)(nil)
)

var subjectID = pip.AttributeRef{Category: pip.CategoryAccessSubject, ID: "id"}

func TestTyping(t *testing.T) {
	var logs bytes.Buffer
	p, err := New("testdata/typed.json", subjectID, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	vals, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		attr    string
		want    []any
		lexical []string
	}{
		{"name", []any{"Alice"}, []string{"Alice"}},
		{"admin", []any{true}, []string{"true"}},
		{"suspended", []any{false}, []string{"false"}},
		{"level", []any{int64(3)}, []string{"3"}},
		{"negative", []any{int64(-12)}, []string{"-12"}},
		{"budget", []any{json.Number("27.50")}, []string{"27.50"}},
		{"ratio", []any{json.Number("0.5")}, []string{"0.5"}},
		{"whole_double", []any{json.Number("2.0")}, []string{"2.0"}},
		{"exponent", []any{json.Number("1e3")}, []string{"1e3"}},
		{"huge", []any{json.Number("123456789012345678901234567890")}, []string{"123456789012345678901234567890"}},
		{"roles", []any{"admin", "editor"}, []string{"admin", "editor"}},
		{"mixed", []any{"x", int64(1), json.Number("1.25"), true}, []string{"x", "1", "1.25", "true"}},
		{"nested", []any{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"unicode", []any{"café"}, []string{"café"}},
		{"empty", nil, nil},
		{"nothing", nil, nil},
		{"address", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.attr, func(t *testing.T) {
			got := vals[tt.attr]
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("%s = %#v, want %#v", tt.attr, got, tt.want)
			}
			for i, v := range got {
				lex, err := pip.Lexical(v)
				if err != nil || lex != tt.lexical[i] {
					t.Fatalf("%s[%d] prints as %q (%v), want %q", tt.attr, i, lex, err, tt.lexical[i])
				}
			}
		})
	}
	// The values are already in the model: the memo need not copy them.
	if _, err := pip.NormalizeValues(vals); err != nil {
		t.Fatal(err)
	}
	// The object-valued attribute was skipped, and said so.
	if !strings.Contains(logs.String(), "alice.address") {
		t.Fatalf("skipped object not logged: %s", logs.String())
	}
	// Keys are matched by their lexical form.
	n, _ := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "42"})
	if !reflect.DeepEqual(n["name"], []any{"numeric key"}) {
		t.Fatalf("key 42 = %v", n)
	}
	d := p.Describe()
	wantAttrs := []string{"admin", "budget", "empty", "exponent", "huge", "level", "mixed", "name", "negative", "nested", "nothing", "ratio", "roles", "suspended", "unicode", "whole_double"}
	if !reflect.DeepEqual(d.Attributes, wantAttrs) || d.Key != subjectID || d.SuppliedCategory() != pip.CategoryAccessSubject {
		t.Fatalf("Describe = %+v", d)
	}
}

func TestTodoUsers(t *testing.T) {
	p, err := New("testdata/todo-users.json", subjectID)
	if err != nil {
		t.Fatal(err)
	}
	checkTodoUsers(t, p)
}

// TestSharedTodoUsers reads the AuthZEN scenario's own user file, when the
// conformance data is there, so that the copy in testdata cannot drift
// from what the interop vectors use.
func TestSharedTodoUsers(t *testing.T) {
	dir := os.Getenv("VERDICT_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "conformance")
		if _, err := os.Stat(dir); err != nil {
			t.Skipf("no conformance data at %s and VERDICT_CONFORMANCE_DIR unset (a user's clone has no ../shared)", dir)
		}
	}
	path := filepath.Join(dir, "authzen", "todo-users.json")
	p, err := New(path, subjectID)
	if err != nil {
		t.Fatal(err)
	}
	checkTodoUsers(t, p)
	shared, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	local, err := os.ReadFile("testdata/todo-users.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared, local) {
		t.Fatal("testdata/todo-users.json differs from the conformance copy; refresh it")
	}
}

func checkTodoUsers(t *testing.T, p *Provider) {
	t.Helper()
	const rick = "CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
	vals, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: rick, Attributes: []string{"roles"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{"admin", "evil_genius"}; !reflect.DeepEqual(vals["roles"], want) {
		t.Fatalf("rick's roles = %v, want %v", vals["roles"], want)
	}
	if want := []any{"rick@the-citadel.com"}; !reflect.DeepEqual(vals["email"], want) {
		t.Fatalf("rick's email = %v, want %v", vals["email"], want)
	}
	unknown, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "nobody", Attributes: []string{"roles"}})
	if err != nil || len(unknown) != 0 {
		t.Fatalf("unknown key = %v, %v; want an empty answer and no error", unknown, err)
	}
	if p.Len() != 5 {
		t.Fatalf("Len = %d, want 5 users", p.Len())
	}
	if want := []string{"email", "name", "roles"}; !reflect.DeepEqual(p.Describe().Attributes, want) {
		t.Fatalf("attributes = %v, want %v", p.Describe().Attributes, want)
	}
}

func TestWrongCategory(t *testing.T) {
	p, err := New("testdata/todo-users.json", subjectID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryResource, Key: "x"}); !errors.Is(err, pip.ErrWrongCategory) {
		t.Fatalf("Fetch error = %v, want ErrWrongCategory", err)
	}
	if _, err := p.List(t.Context(), pip.ListQuery{Category: pip.CategoryResource}); !errors.Is(err, pip.ErrWrongCategory) {
		t.Fatalf("List error = %v, want ErrWrongCategory", err)
	}
	// WithCategory: resource attributes keyed by a subject attribute.
	r, err := New("testdata/todo-users.json", subjectID, WithCategory(pip.CategoryResource))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Fetch(t.Context(), pip.Query{Category: pip.CategoryResource, Key: "x"}); err != nil {
		t.Fatal(err)
	}
	if d := r.Describe(); d.SuppliedCategory() != pip.CategoryResource || d.Key != subjectID {
		t.Fatalf("Describe = %+v", d)
	}
}

func TestNewRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content, want string
	}{
		{"invalid JSON", `{"a": `, "invalid JSON"},
		{"array", `[{"a": 1}]`, "got an array"},
		{"entity not an object", `{"alice": ["admin"]}`, `key "alice": want an object of attributes, got an array`},
		{"entity null", `{"alice": null}`, "got null"},
		{"trailing data", `{"a": {}} {"b": {}}`, "data after the top-level object"},
		{"empty file", ``, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := New(path, subjectID)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error = %v, want one naming the file and containing %q", err, tt.want)
			}
		})
	}
	if _, err := New(filepath.Join(dir, "missing.json"), subjectID); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: error = %v, want os.ErrNotExist", err)
	}
	if _, err := New("testdata/todo-users.json", pip.AttributeRef{ID: "id"}); err == nil {
		t.Fatal("a key attribute without category was accepted")
	}
}

// fakeClock is a pip.Clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// writeAtomically replaces path the way editors and config tools do.
func writeAtomically(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestReloadWhenFileChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	writeAtomically(t, path, `{"alice": {"roles": ["viewer"]}}`)
	clock := &fakeClock{now: time.Unix(1000, 0)}
	p, err := New(path, subjectID, WithClock(clock), WithReloadInterval(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	roles := func() []any {
		t.Helper()
		v, err := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}})
		if err != nil {
			t.Fatal(err)
		}
		return v["roles"]
	}
	writeAtomically(t, path, `{"alice": {"roles": ["admin"]}, "bob": {"roles": ["viewer"]}}`)
	if got := roles(); !reflect.DeepEqual(got, []any{"viewer"}) {
		t.Fatalf("before the interval: roles = %v, want the old content", got)
	}
	clock.Advance(5 * time.Second)
	if got := roles(); !reflect.DeepEqual(got, []any{"admin"}) {
		t.Fatalf("after the interval: roles = %v, want the new content", got)
	}
	if p.Len() != 2 {
		t.Fatalf("Len = %d after reload, want 2", p.Len())
	}

	// A broken file keeps the last good content.
	writeAtomically(t, path, `{"alice": {"roles": [`)
	clock.Advance(5 * time.Second)
	if got := roles(); !reflect.DeepEqual(got, []any{"admin"}) {
		t.Fatalf("after a broken write: roles = %v, want the last good content", got)
	}
	if err := p.Reload(); err == nil || !strings.Contains(err.Error(), "invalid JSON") {
		t.Fatalf("Reload of a broken file: error = %v", err)
	}
	// A removed file too.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Second)
	if got := roles(); !reflect.DeepEqual(got, []any{"admin"}) {
		t.Fatalf("after removal: roles = %v, want the last good content", got)
	}
	// And it comes back.
	writeAtomically(t, path, `{"alice": {"roles": ["editor"]}}`)
	clock.Advance(5 * time.Second)
	if got := roles(); !reflect.DeepEqual(got, []any{"editor"}) {
		t.Fatalf("after repair: roles = %v", got)
	}
}

func TestReloadDisabled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	writeAtomically(t, path, `{"alice": {"roles": ["viewer"]}}`)
	clock := &fakeClock{now: time.Unix(1000, 0)}
	p, err := New(path, subjectID, WithClock(clock), WithReloadInterval(0))
	if err != nil {
		t.Fatal(err)
	}
	writeAtomically(t, path, `{"alice": {"roles": ["admin"]}}`)
	clock.Advance(time.Hour)
	v, _ := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice"})
	if !reflect.DeepEqual(v["roles"], []any{"viewer"}) {
		t.Fatalf("roles = %v; the file was reloaded with reloading disabled", v["roles"])
	}
	if err := p.Reload(); err != nil {
		t.Fatal(err)
	}
	v, _ = p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice"})
	if !reflect.DeepEqual(v["roles"], []any{"admin"}) {
		t.Fatalf("roles = %v after an explicit Reload", v["roles"])
	}
}

func TestConcurrentFetchDuringReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	writeAtomically(t, path, `{"alice": {"n": 0}}`)
	clock := &fakeClock{now: time.Unix(1000, 0)}
	p, err := New(path, subjectID, WithClock(clock), WithReloadInterval(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				v, err := p.Fetch(context.Background(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice"})
				if err != nil || len(v["n"]) != 1 {
					t.Errorf("fetch during reload = %v, %v", v, err)
					return
				}
			}
		})
	}
	for i := 1; i <= 10; i++ {
		writeAtomically(t, path, fmt.Sprintf(`{"alice": {"n": %d}, "pad%d": {}}`, i, i))
		clock.Advance(time.Second)
		waitFor(t, func() bool {
			v, _ := p.Fetch(t.Context(), pip.Query{Category: pip.CategoryAccessSubject, Key: "alice"})
			return reflect.DeepEqual(v["n"], []any{int64(i)})
		})
	}
	close(stop)
	wg.Wait()
}

func TestList(t *testing.T) {
	p, err := New("testdata/todo-users.json", subjectID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	var keys []string
	q := pip.ListQuery{Category: pip.CategoryAccessSubject, Limit: 2, Attributes: []string{"email"}}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		page, err := p.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entities {
			keys = append(keys, e.Key)
			if len(e.Values) != 1 || len(e.Values["email"]) != 1 {
				t.Fatalf("entity %s values = %v, want only its email", e.Key, e.Values)
			}
		}
		if page.Next == "" {
			break
		}
		if len(page.Entities) != 2 {
			t.Fatalf("a non-final page has %d entities", len(page.Entities))
		}
		q.After = page.Next
	}
	all, err := p.List(ctx, pip.ListQuery{Category: pip.CategoryAccessSubject})
	if err != nil || all.Next != "" || len(all.Entities) != 5 {
		t.Fatalf("unpaged list = %d entities, next %q, %v", len(all.Entities), all.Next, err)
	}
	var want []string
	for _, e := range all.Entities {
		want = append(want, e.Key)
		if len(e.Values["roles"]) == 0 || len(e.Values["name"]) != 1 {
			t.Fatalf("entity %s lacks attributes: %v", e.Key, e.Values)
		}
	}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("paged keys %v, want %v", keys, want)
	}
	for i := 1; i < len(want); i++ {
		if want[i-1] >= want[i] {
			t.Fatalf("keys not in ascending order: %v", want)
		}
	}
	// After a key that is not in the file: resume at the next one.
	page, err := p.List(ctx, pip.ListQuery{Category: pip.CategoryAccessSubject, After: want[1] + "\x00"})
	if err != nil || len(page.Entities) != 3 || page.Entities[0].Key != want[2] {
		t.Fatalf("after a missing key: %v, %v", page, err)
	}
	// Past the end.
	page, err = p.List(ctx, pip.ListQuery{Category: pip.CategoryAccessSubject, After: want[4]})
	if err != nil || len(page.Entities) != 0 || page.Next != "" {
		t.Fatalf("past the end: %v, %v", page, err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.List(canceled, pip.ListQuery{Category: pip.CategoryAccessSubject}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled list: error = %v", err)
	}
}

func TestThroughPipWrappers(t *testing.T) {
	p, err := New("testdata/todo-users.json", subjectID)
	if err != nil {
		t.Fatal(err)
	}
	set, err := pip.NewSet(pip.Source{Name: "users", Provider: pip.Wrap(p, pip.WithCache(time.Minute, 100))})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pip.As[pip.Lister](set.Sources()[0].Provider); !ok {
		t.Fatal("the Lister is not reachable through the wrappers")
	}
	const morty = "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"
	m := pip.NewMemo()
	bag, err := set.Resolve(t.Context(), m, pip.CategoryAccessSubject, "roles", func(ref pip.AttributeRef) []string {
		if ref == subjectID {
			return []string{morty}
		}
		return nil
	})
	if err != nil || !reflect.DeepEqual(bag, []any{"editor"}) {
		t.Fatalf("roles = %v, %v", bag, err)
	}
	// Not an attribute of the file: no source is asked.
	if got := set.Candidates(pip.CategoryAccessSubject, "department"); len(got) != 0 {
		t.Fatalf("candidates for an attribute the file lacks: %v", got)
	}
	rs := m.Records()
	if len(rs) != 1 || rs[0].Key != morty {
		t.Fatalf("records = %+v", rs)
	}
}

// waitFor polls cond until it holds or the test times out.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

func BenchmarkFetch(b *testing.B) {
	p, err := New("testdata/todo-users.json", subjectID)
	if err != nil {
		b.Fatal(err)
	}
	q := pip.Query{Category: pip.CategoryAccessSubject, Key: "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs", Attributes: []string{"roles"}}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if v, err := p.Fetch(ctx, q); err != nil || len(v["roles"]) != 1 {
			b.Fatal(v, err)
		}
	}
}
