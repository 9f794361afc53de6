package pip

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func TestMemoFetchesOncePerDecision(t *testing.T) {
	inner := newRecorder(users())
	src := Source{Name: "users", Provider: inner}
	m := NewMemo()
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	for range 3 {
		got, err := m.Fetch(t.Context(), src, q)
		if err != nil || !reflect.DeepEqual(got, Values{"roles": {"admin", "editor"}}) {
			t.Fatalf("got %v, %v", got, err)
		}
	}
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("calls = %d, want 1", n)
	}
	// Another decision fetches again.
	if _, err := NewMemo().Fetch(t.Context(), src, q); err != nil {
		t.Fatal(err)
	}
	if n := inner.calls.Load(); n != 2 {
		t.Fatalf("calls = %d, want 2 (memos are per decision)", n)
	}
	// Same key, other source: a separate fetch.
	if _, err := m.Fetch(t.Context(), Source{Name: "other", Provider: inner}, q); err != nil {
		t.Fatal(err)
	}
	if n := inner.calls.Load(); n != 3 {
		t.Fatalf("calls = %d, want 3", n)
	}
}

func TestMemoConcurrent(t *testing.T) {
	inner := newRecorder(users())
	src := Source{Name: "users", Provider: inner}
	m := NewMemo()
	attrs := []string{"roles", "age", "email", "missing"}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			// Overlapping attribute sets, in different orders, from many
			// goroutines at once.
			a := []string{attrs[i%4], attrs[(i+1)%4]}
			got, err := m.Fetch(t.Context(), src, Query{Category: CategoryAccessSubject, Key: "alice", Attributes: a})
			if err != nil {
				errs <- err
				return
			}
			for _, id := range a {
				if !reflect.DeepEqual(got[id], users()["alice"][id]) {
					errs <- fmt.Errorf("%s = %v, want %v", id, got[id], users()["alice"][id])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Each attribute was led by exactly one call.
	asked := map[string]int{}
	for _, q := range inner.Queries() {
		for _, a := range q.Attributes {
			asked[a]++
		}
	}
	for _, a := range attrs {
		if asked[a] != 1 {
			t.Fatalf("attribute %q fetched %d times, want 1 (all: %v)", a, asked[a], asked)
		}
	}
	var recorded int
	for _, r := range m.Records() {
		recorded += len(r.Attributes)
	}
	if recorded != len(attrs) {
		t.Fatalf("records cover %d attributes, want %d", recorded, len(attrs))
	}
}

func TestMemoConcurrentSingleAttribute(t *testing.T) {
	inner := newRecorder(users())
	inner.gate = make(chan struct{})
	inner.started = make(chan struct{}, 1)
	src := Source{Name: "users", Provider: inner}
	m := NewMemo()
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			got, err := m.Fetch(t.Context(), src, q)
			if err == nil && len(got["roles"]) != 2 {
				err = fmt.Errorf("got %v", got)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	<-inner.started // one leader is in the provider; the others wait or will hit
	close(inner.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("calls = %d, want 1", n)
	}
	if n := len(m.Records()); n != 1 {
		t.Fatalf("records = %d, want 1", n)
	}
}

func TestMemoFailureIsMemoisedAndRecorded(t *testing.T) {
	inner := newRecorder(users())
	boom := errors.New("backend down")
	inner.setFail(boom)
	src := Source{Name: "users", Provider: inner}
	m := NewMemo()
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	for range 2 {
		_, err := m.Fetch(t.Context(), src, q)
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "pip source users") {
			t.Fatalf("error = %v, want the provider's, naming the source", err)
		}
	}
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("calls = %d: a failure was retried within the decision", n)
	}
	rs := m.Records()
	if len(rs) != 1 || !errors.Is(rs[0].Err, boom) || rs[0].Error == "" || rs[0].Values != nil {
		t.Fatalf("records = %+v", rs)
	}
}

func TestMemoRecords(t *testing.T) {
	inner := ProviderFunc(func(_ context.Context, q Query) (Values, error) {
		if q.Key != "alice" {
			return nil, nil
		}
		return Values{"price": {json.Number("27.50")}, "roles": {[]string{"a", "b"}}, "n": {3}}, nil
	})
	src := Source{Name: "users", Provider: inner}
	m := NewMemo()
	got, err := m.Fetch(t.Context(), src, Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"price", "roles", "n"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Values{"price": {json.Number("27.50")}, "roles": {"a", "b"}, "n": {int64(3)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("normalized = %#v, want %#v", got, want)
	}
	if _, err := m.Fetch(t.Context(), src, Query{Category: CategoryAccessSubject, Key: "nobody", Attributes: []string{"roles"}}); err != nil {
		t.Fatal(err)
	}
	rs := m.Records()
	if len(rs) != 2 || rs[0].Key != "alice" || rs[1].Key != "nobody" || rs[0].Source != "users" {
		t.Fatalf("records = %+v", rs)
	}
	b, err := json.Marshal(rs[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"price":[27.50]`) {
		t.Fatalf("record JSON %s does not keep the lexical form 27.50", b)
	}
	// A record shows what was asked, not everything the provider returned.
	if _, err := m.Fetch(t.Context(), src, Query{Category: CategoryResource, Key: "alice", Attributes: []string{"n"}}); err != nil {
		t.Fatal(err)
	}
	if last := m.Records()[2]; !reflect.DeepEqual(last.Values, Values{"n": {int64(3)}}) {
		t.Fatalf("record values = %v, want only the attribute asked", last.Values)
	}
	// Records returns a copy.
	rs[0].Key = "changed"
	if m.Records()[0].Key != "alice" {
		t.Fatal("Records exposed the memo's own slice")
	}
}

func TestMemoRefusesInvalidValues(t *testing.T) {
	inner := ProviderFunc(func(context.Context, Query) (Values, error) {
		return Values{"x": {map[string]any{"nested": true}}}, nil
	})
	_, err := NewMemo().Fetch(t.Context(), Source{Name: "bad", Provider: inner}, Query{Key: "k", Attributes: []string{"x"}})
	if !errors.Is(err, ErrInvalidValue) {
		t.Fatalf("error = %v, want ErrInvalidValue", err)
	}
}

func TestMemoAllThenSpecific(t *testing.T) {
	inner := newRecorder(users())
	src := Source{Name: "users", Provider: inner}
	m := NewMemo()
	all, err := m.Fetch(t.Context(), src, Query{Category: CategoryAccessSubject, Key: "alice"})
	if err != nil || !reflect.DeepEqual(all, users()["alice"]) {
		t.Fatalf("all = %v, %v", all, err)
	}
	got, err := m.Fetch(t.Context(), src, Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"email", "missing"}})
	if err != nil || !reflect.DeepEqual(got, Values{"email": {"alice@example.com"}}) {
		t.Fatalf("got %v, %v", got, err)
	}
	again, _ := m.Fetch(t.Context(), src, Query{Category: CategoryAccessSubject, Key: "alice"})
	if !reflect.DeepEqual(again, all) {
		t.Fatalf("second all = %v", again)
	}
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("calls = %d, want 1", n)
	}
	unknown, err := m.Fetch(t.Context(), src, Query{Category: CategoryAccessSubject, Key: "nobody"})
	if err != nil || unknown == nil || len(unknown) != 0 {
		t.Fatalf("unknown = %#v, %v; want empty non-nil Values", unknown, err)
	}
}

func TestMemoWaiterHonoursItsContext(t *testing.T) {
	inner := newRecorder(users())
	inner.gate = make(chan struct{})
	defer close(inner.gate)
	inner.started = make(chan struct{}, 1)
	src := Source{Name: "users", Provider: inner}
	m := NewMemo()
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	go func() { _, _ = m.Fetch(t.Context(), src, q) }()
	<-inner.started
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := m.Fetch(ctx, src, q); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	all := Query{Category: CategoryAccessSubject, Key: "bob"}
	go func() { _, _ = m.Fetch(t.Context(), src, all) }()
	<-inner.started
	if _, err := m.Fetch(ctx, src, all); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

func TestMemoPanicBecomesFailure(t *testing.T) {
	inner := ProviderFunc(func(context.Context, Query) (Values, error) { panic("oops") })
	m := NewMemo()
	src := Source{Name: "p", Provider: inner}
	q := Query{Key: "k", Attributes: []string{"a"}}
	for range 2 {
		if _, err := m.Fetch(t.Context(), src, q); !errors.Is(err, ErrProviderPanic) {
			t.Fatalf("error = %v, want ErrProviderPanic", err)
		}
	}
}

func TestNilMemoFetchesDirectly(t *testing.T) {
	inner := newRecorder(users())
	var m *Memo
	src := Source{Name: "users", Provider: inner}
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	for range 2 {
		got, err := m.Fetch(t.Context(), src, q)
		if err != nil || !reflect.DeepEqual(got, Values{"roles": {"admin", "editor"}}) {
			t.Fatalf("got %v, %v", got, err)
		}
	}
	if inner.calls.Load() != 2 || m.Records() != nil {
		t.Fatal("a nil memo memoised or recorded")
	}
	if _, err := m.Fetch(t.Context(), Source{Name: "none"}, q); !errors.Is(err, ErrInvalidSource) {
		t.Fatalf("error = %v, want ErrInvalidSource", err)
	}
}

func TestMemoContext(t *testing.T) {
	if MemoFromContext(t.Context()) != nil {
		t.Fatal("memo found in a bare context")
	}
	m := NewMemo()
	if got := MemoFromContext(ContextWithMemo(t.Context(), m)); got != m {
		t.Fatal("memo not found in its context")
	}
}
