package pip

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestCacheHitsAndTTL(t *testing.T) {
	clock := newFakeClock()
	inner := newRecorder(users())
	c := NewCache(inner, WithCache(time.Minute, 100), WithClock(clock))
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	want := Values{"roles": {"admin", "editor"}}

	for i := range 3 {
		got, err := c.Fetch(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fetch %d = %v, want %v", i, got, want)
		}
	}
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("provider called %d times within the TTL, want 1", n)
	}
	clock.Advance(59 * time.Second)
	_, _ = c.Fetch(t.Context(), q)
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("provider called %d times just before expiry, want 1", n)
	}
	clock.Advance(time.Second)
	if _, err := c.Fetch(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	if n := inner.calls.Load(); n != 2 {
		t.Fatalf("provider called %d times after expiry, want 2", n)
	}
}

func TestCacheKeysByCategoryKeyAndAttribute(t *testing.T) {
	inner := newRecorder(users())
	c := NewCache(inner, WithCache(time.Minute, 100), WithClock(newFakeClock()))
	ctx := t.Context()
	_, _ = c.Fetch(ctx, Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}})
	_, _ = c.Fetch(ctx, Query{Category: CategoryResource, Key: "alice", Attributes: []string{"roles"}})
	_, _ = c.Fetch(ctx, Query{Category: CategoryAccessSubject, Key: "bob", Attributes: []string{"roles"}})
	if n := inner.calls.Load(); n != 3 {
		t.Fatalf("calls = %d, want 3 distinct fetches", n)
	}
	// Partly cached: only the missing attribute is asked for.
	got, err := c.Fetch(ctx, Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles", "email", "roles"}})
	if err != nil {
		t.Fatal(err)
	}
	want := Values{"roles": {"admin", "editor"}, "email": {"alice@example.com"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	qs := inner.Queries()
	if last := qs[len(qs)-1]; !reflect.DeepEqual(last.Attributes, []string{"email"}) {
		t.Fatalf("upstream asked for %v, want only [email]", last.Attributes)
	}
}

func TestCacheEmptyAnswersAreCachedFailuresAreNot(t *testing.T) {
	inner := newRecorder(users())
	c := NewCache(inner, WithCache(time.Minute, 100), WithClock(newFakeClock()))
	q := Query{Category: CategoryAccessSubject, Key: "nobody", Attributes: []string{"roles"}}
	for range 2 {
		got, err := c.Fetch(t.Context(), q)
		if err != nil || len(got) != 0 {
			t.Fatalf("unknown key: got %v, %v; want empty, nil", got, err)
		}
	}
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("calls = %d; the empty answer was not cached", n)
	}

	boom := errors.New("down")
	inner.setFail(boom)
	fq := Query{Category: CategoryAccessSubject, Key: "bob", Attributes: []string{"roles"}}
	for range 2 {
		if _, err := c.Fetch(t.Context(), fq); !errors.Is(err, boom) {
			t.Fatalf("error = %v, want the provider's", err)
		}
	}
	if n := inner.calls.Load(); n != 3 {
		t.Fatalf("calls = %d; a failure was cached", n)
	}
	inner.setFail(nil)
	if got, err := c.Fetch(t.Context(), fq); err != nil || len(got["roles"]) != 1 {
		t.Fatalf("after recovery: %v, %v", got, err)
	}
}

func TestCacheWholeEntity(t *testing.T) {
	inner := newRecorder(users())
	c := NewCache(inner, WithCache(time.Minute, 100), WithClock(newFakeClock()))
	all, err := c.Fetch(t.Context(), Query{Category: CategoryAccessSubject, Key: "alice"})
	if err != nil || !reflect.DeepEqual(all, users()["alice"]) {
		t.Fatalf("all attributes: %v, %v", all, err)
	}
	// Specific attributes are then answered from the whole-entity entry.
	got, err := c.Fetch(t.Context(), Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"age", "missing"}})
	if err != nil || !reflect.DeepEqual(got["age"], []any{int64(41)}) || len(got["missing"]) != 0 {
		t.Fatalf("got %v, %v", got, err)
	}
	_, _ = c.Fetch(t.Context(), Query{Category: CategoryAccessSubject, Key: "alice"})
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("calls = %d, want 1", n)
	}
	// An unknown entity is cached as an empty whole-entity entry.
	for range 2 {
		if got, err := c.Fetch(t.Context(), Query{Category: CategoryAccessSubject, Key: "nobody"}); err != nil || len(got) != 0 {
			t.Fatalf("unknown: %v, %v", got, err)
		}
	}
	if n := inner.calls.Load(); n != 2 {
		t.Fatalf("calls = %d, want 2", n)
	}
}

func TestCacheSizeBoundEvictsLeastRecentlyUsed(t *testing.T) {
	inner := newRecorder(users())
	c := NewCache(inner, WithCache(time.Hour, 2), WithClock(newFakeClock()))
	ctx := t.Context()
	fetch := func(key string) {
		t.Helper()
		if _, err := c.Fetch(ctx, Query{Category: CategoryAccessSubject, Key: key, Attributes: []string{"roles"}}); err != nil {
			t.Fatal(err)
		}
	}
	fetch("a")
	fetch("b")
	fetch("a") // a is now the most recently used
	fetch("c") // evicts b
	if c.Len() != 2 {
		t.Fatalf("Len = %d, want 2", c.Len())
	}
	before := inner.calls.Load()
	fetch("a")
	if inner.calls.Load() != before {
		t.Fatal("a was evicted, want b evicted")
	}
	fetch("b")
	if inner.calls.Load() != before+1 {
		t.Fatal("b was still cached")
	}
}

func TestCacheSharesConcurrentMisses(t *testing.T) {
	inner := newRecorder(users())
	inner.gate = make(chan struct{})
	inner.started = make(chan struct{}, 1)
	c := NewCache(inner, WithCache(time.Minute, 100), WithClock(newFakeClock()))
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	wg.Go(func() {
		_, err := c.Fetch(t.Context(), q)
		errs <- err
	})
	<-inner.started // the leader is upstream
	for range 7 {
		wg.Go(func() {
			got, err := c.Fetch(t.Context(), q)
			if err == nil && len(got["roles"]) != 2 {
				err = fmt.Errorf("got %v", got)
			}
			errs <- err
		})
	}
	// Wait until every follower waits on the flight, then release.
	waitFor(t, func() bool { return flightWaiters(c) == 7 })
	close(inner.gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := inner.calls.Load(); n != 1 {
		t.Fatalf("provider called %d times for one key, want 1", n)
	}
}

func TestCacheFollowerRetriesWhenLeaderGivesUp(t *testing.T) {
	inner := newRecorder(users())
	inner.gate = make(chan struct{})
	inner.started = make(chan struct{}, 1)
	c := NewCache(inner, WithCache(time.Minute, 100), WithClock(newFakeClock()))
	q := Query{Category: CategoryAccessSubject, Key: "bob", Attributes: []string{"roles"}}

	leaderCtx, cancelLeader := context.WithCancel(t.Context())
	leaderErr := make(chan error, 1)
	go func() {
		_, err := c.Fetch(leaderCtx, q)
		leaderErr <- err
	}()
	<-inner.started
	followerDone := make(chan error, 1)
	go func() {
		got, err := c.Fetch(t.Context(), q)
		if err == nil && len(got["roles"]) != 1 {
			err = fmt.Errorf("got %v", got)
		}
		followerDone <- err
	}()
	waitFor(t, func() bool { return flightWaiters(c) == 1 })
	// The follower's own retry must not block on the gate.
	inner.mu.Lock()
	inner.gate = nil
	inner.mu.Unlock()
	cancelLeader()
	if err := <-leaderErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader error = %v, want context.Canceled", err)
	}
	if err := <-followerDone; err != nil {
		t.Fatalf("follower: %v (the leader's cancellation leaked to it)", err)
	}
}

func TestCacheReturnsEarlyWhenCallerGivesUp(t *testing.T) {
	inner := newRecorder(users())
	inner.gate = make(chan struct{})
	defer close(inner.gate)
	inner.started = make(chan struct{}, 1)
	c := NewCache(inner, WithCache(time.Minute, 100))
	q := Query{Category: CategoryAccessSubject, Key: "bob"}
	go func() { _, _ = c.Fetch(t.Context(), q) }()
	<-inner.started
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := c.Fetch(ctx, q); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want context.DeadlineExceeded", err)
	}
}

func TestNewCacheDefaults(t *testing.T) {
	c := NewCache(newRecorder(nil))
	if c.cfg.cacheTTL != DefaultCacheTTL || c.cfg.cacheSize != DefaultCacheEntries {
		t.Fatalf("defaults = %s/%d", c.cfg.cacheTTL, c.cfg.cacheSize)
	}
}

// flightWaiters counts the callers waiting on upstream fetches.
func flightWaiters(c *Cache) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, f := range c.flights {
		n += f.waiters
	}
	return n
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
