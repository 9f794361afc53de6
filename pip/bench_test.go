package pip

import (
	"testing"
	"time"
)

func BenchmarkCacheHit(b *testing.B) {
	c := NewCache(newRecorder(users()), WithCache(time.Hour, 1000))
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	ctx := b.Context()
	if _, err := c.Fetch(ctx, q); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Fetch(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCacheHitParallel(b *testing.B) {
	c := NewCache(newRecorder(users()), WithCache(time.Hour, 1000))
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	ctx := b.Context()
	if _, err := c.Fetch(ctx, q); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Fetch(ctx, q); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkDecisionCachedFetch is what one decision pays for one PIP
// attribute that the TTL cache holds: a new memo, the routing and the
// cached fetch through the full Wrap stack.
func BenchmarkDecisionCachedFetch(b *testing.B) {
	set, err := NewSet(Source{
		Name:        "users",
		Provider:    Wrap(newRecorder(users()), WithCache(time.Hour, 1000)),
		Description: Description{Key: AttributeRef{Category: CategoryAccessSubject, ID: "id"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	keys := func(AttributeRef) []string { return []string{"alice"} }
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		bag, err := set.Resolve(ctx, NewMemo(), CategoryAccessSubject, "roles", keys)
		if err != nil || len(bag) != 2 {
			b.Fatal(bag, err)
		}
	}
}

func BenchmarkMemoHit(b *testing.B) {
	m := NewMemo()
	src := Source{Name: "users", Provider: newRecorder(users())}
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	ctx := b.Context()
	if _, err := m.Fetch(ctx, src, q); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Fetch(ctx, src, q); err != nil {
			b.Fatal(err)
		}
	}
}
