package pip

import (
	"context"
	"errors"
	"testing"
	"time"
)

// listing is a provider with the Lister capability.
type listing struct{ *recorder }

func (listing) List(context.Context, ListQuery) (Page, error) {
	return Page{Entities: []Entity{{Key: "alice"}}}, nil
}

func contextWithCancel(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithCancel(t.Context())
}

func TestWrapOrder(t *testing.T) {
	clock := newFakeClock()
	inner := newRecorder(users())
	p := Wrap(listing{inner}, WithCache(time.Minute, 10), WithBreaker(1, time.Minute), WithTimeout(time.Second), WithClock(clock))

	c, ok := As[*Cache](p)
	if !ok || c != p {
		t.Fatal("the cache is not the outermost layer")
	}
	b, ok := As[*Breaker](p)
	if !ok {
		t.Fatal("no breaker in the stack")
	}
	if _, ok := b.Unwrap().(*timeout); !ok {
		t.Fatalf("the breaker wraps %T, want the timeout", b.Unwrap())
	}
	l, ok := As[Lister](p)
	if !ok {
		t.Fatal("the Lister capability is hidden by the wrappers")
	}
	if page, err := l.List(t.Context(), ListQuery{}); err != nil || len(page.Entities) != 1 {
		t.Fatalf("List = %v, %v", page, err)
	}

	// A cached answer is served even when the circuit is open.
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	if _, err := p.Fetch(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	inner.setFail(errors.New("down"))
	_, _ = p.Fetch(t.Context(), Query{Category: CategoryAccessSubject, Key: "bob", Attributes: []string{"roles"}})
	if b.State() != StateOpen {
		t.Fatalf("breaker %s, want open", b.State())
	}
	if got, err := p.Fetch(t.Context(), q); err != nil || len(got["roles"]) != 2 {
		t.Fatalf("cached fetch with open circuit = %v, %v", got, err)
	}
}

func TestWrapDefaultsAndDisabling(t *testing.T) {
	inner := newRecorder(users())
	p := Wrap(inner)
	if _, ok := As[*Cache](p); ok {
		t.Fatal("Wrap added a cache nobody asked for")
	}
	if _, ok := As[*Breaker](p); !ok {
		t.Fatal("Wrap has no breaker by default")
	}
	if _, ok := As[*timeout](p); !ok {
		t.Fatal("Wrap has no timeout by default")
	}
	bare := Wrap(inner, WithTimeout(0), WithBreaker(0, 0), WithCache(0, 0))
	if bare != Provider(inner) {
		t.Fatalf("fully disabled Wrap = %T, want the provider itself", bare)
	}
	if _, ok := As[Lister](bare); ok {
		t.Fatal("As found a capability the provider does not have")
	}
}
