package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/verdict-authz/verdict/pap/store"
)

// testConcurrentPushesGetGaplessNumbers has N pushers race on one service,
// each doing what the PAP does: read the head, create on top of it, and
// start over on ErrConflict. Every push must land exactly once, numbered
// 1..N without gap or duplicate, each on top of the one before.
func testConcurrentPushesGetGaplessNumbers(t *testing.T, s store.Store) {
	const pushers = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		numbers []int64
		errs    []error
	)
	start := make(chan struct{})
	for i := range pushers {
		wg.Go(func() {
			<-start
			rev, err := pushWithRetry(t, s, "orders", i, 10*pushers)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("pusher %d: %w", i, err))
				return
			}
			numbers = append(numbers, rev.Number)
		})
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	slices.Sort(numbers)
	for i, n := range numbers {
		if n != int64(i+1) {
			t.Fatalf("assigned revision numbers %v, want 1..%d", numbers, pushers)
		}
	}

	page, err := s.List(t.Context(), "orders", store.PageOptions{Limit: pushers + 1})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(page.Items) != pushers {
		t.Fatalf("List returned %d revisions, want %d", len(page.Items), pushers)
	}
	authors := map[string]bool{}
	for i, sum := range page.Items {
		if want := int64(pushers - i); sum.Number != want || sum.Parent != want-1 {
			t.Fatalf("List item %d: #%d parent %d, want #%d parent %d", i, sum.Number, sum.Parent, want, want-1)
		}
		authors[sum.Author] = true
	}
	if len(authors) != pushers {
		t.Fatalf("%d distinct authors stored, want one revision from each of %d pushers", len(authors), pushers)
	}
	checkNothingStored(t, s, map[string]int64{"orders": pushers})
}

// pushWithRetry pushes content(i) as author pusher-i on top of whatever the
// head is, retrying on ErrConflict up to attempts times.
func pushWithRetry(t *testing.T, s store.Store, service string, i, attempts int) (store.Revision, error) {
	for range attempts {
		var parent int64
		head, err := s.Latest(t.Context(), service)
		switch {
		case err == nil:
			parent = head.Number
		case !errors.Is(err, store.ErrNotFound):
			return store.Revision{}, fmt.Errorf("read head: %w", err)
		}
		d := draft(service, parent, i)
		d.Author = fmt.Sprintf("pusher-%d", i)
		rev, err := s.Create(t.Context(), d)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return store.Revision{}, fmt.Errorf("create on parent %d: %w", parent, err)
		}
		if rev.Parent != parent || rev.Number != parent+1 {
			return store.Revision{}, fmt.Errorf("create on parent %d returned #%d parent %d", parent, rev.Number, rev.Parent)
		}
		return rev, nil
	}
	return store.Revision{}, fmt.Errorf("still conflicting after %d attempts", attempts)
}

// testConcurrentCreatesFromOneParentConflict has pushers that all read the
// same head create at once: exactly one wins, the others get ErrConflict
// and leave no trace.
func testConcurrentCreatesFromOneParentConflict(t *testing.T, s store.Store) {
	const racers = 8
	for _, parent := range []int64{0, 1} { // a new service, then an existing one
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			winners   []string
			conflicts int
			errs      []error
		)
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				d := draft("orders", parent, i)
				d.Author = fmt.Sprintf("racer-%d", i)
				<-start
				_, err := s.Create(t.Context(), d)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winners = append(winners, d.Author)
				case errors.Is(err, store.ErrConflict):
					conflicts++
				default:
					errs = append(errs, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(errs) > 0 {
			t.Fatalf("on parent %d: %v", parent, errors.Join(errs...))
		}
		if len(winners) != 1 || conflicts != racers-1 {
			t.Fatalf("on parent %d: %d winners %v and %d conflicts, want 1 and %d", parent, len(winners), winners, conflicts, racers-1)
		}
		head := mustGet(t, s, "orders", parent+1)
		if head.Author != winners[0] {
			t.Fatalf("revision %d by %q, want the winner %q", parent+1, head.Author, winners[0])
		}
		checkNothingStored(t, s, map[string]int64{"orders": parent + 1})
	}
}

// testConcurrentServicesDoNotInterfere pushes to several services at once:
// pushes to different services never conflict.
func testConcurrentServicesDoNotInterfere(t *testing.T, s store.Store) {
	const services, pushes = 6, 5
	var wg sync.WaitGroup
	errs := make([]error, services)
	for i := range services {
		wg.Go(func() {
			name := fmt.Sprintf("svc-%d", i)
			for p := range pushes {
				if _, err := s.Create(t.Context(), draft(name, int64(p), p)); err != nil {
					errs[i] = fmt.Errorf("%s push %d: %w", name, p+1, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for i := range services {
		want[fmt.Sprintf("svc-%d", i)] = pushes
	}
	checkNothingStored(t, s, want)
}
