package pip

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBreakerTransitions(t *testing.T) {
	clock := newFakeClock()
	inner := newRecorder(users())
	b := NewBreaker(inner, WithBreaker(3, 10*time.Second), WithClock(clock), WithName("users"))
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	boom := errors.New("backend down")

	// Closed: failures below the threshold pass through, a success resets
	// the count.
	inner.setFail(boom)
	for range 2 {
		if _, err := b.Fetch(t.Context(), q); !errors.Is(err, boom) {
			t.Fatalf("error = %v, want the provider's", err)
		}
	}
	inner.setFail(nil)
	if _, err := b.Fetch(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	inner.setFail(boom)
	for range 2 {
		_, _ = b.Fetch(t.Context(), q)
	}
	if s := b.State(); s != StateClosed {
		t.Fatalf("state = %s after 2 failures following a success, want closed", s)
	}

	// The third consecutive failure opens the circuit.
	_, _ = b.Fetch(t.Context(), q)
	if s := b.State(); s != StateOpen {
		t.Fatalf("state = %s, want open", s)
	}
	calls := inner.calls.Load()
	_, err := b.Fetch(t.Context(), q)
	if !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("error = %v, want ErrCircuitOpen", err)
	}
	if inner.calls.Load() != calls {
		t.Fatal("an open circuit called the provider")
	}

	// After the cool-down a probe goes through; it fails: open again.
	clock.Advance(9 * time.Second)
	if _, err := b.Fetch(t.Context(), q); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("before cool-down: error = %v, want ErrCircuitOpen", err)
	}
	clock.Advance(time.Second)
	if s := b.State(); s != StateHalfOpen {
		t.Fatalf("state = %s after cool-down, want half-open", s)
	}
	if _, err := b.Fetch(t.Context(), q); !errors.Is(err, boom) {
		t.Fatalf("probe error = %v, want the provider's", err)
	}
	if s := b.State(); s != StateOpen {
		t.Fatalf("state = %s after failed probe, want open", s)
	}
	if _, err := b.Fetch(t.Context(), q); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("error = %v, want ErrCircuitOpen after failed probe", err)
	}

	// Next cool-down: the probe succeeds and closes the circuit.
	clock.Advance(10 * time.Second)
	inner.setFail(nil)
	if _, err := b.Fetch(t.Context(), q); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if s := b.State(); s != StateClosed {
		t.Fatalf("state = %s after successful probe, want closed", s)
	}
	if _, err := b.Fetch(t.Context(), q); err != nil {
		t.Fatal(err)
	}
}

func TestBreakerSingleProbe(t *testing.T) {
	clock := newFakeClock()
	inner := newRecorder(users())
	b := NewBreaker(inner, WithBreaker(1, time.Second), WithClock(clock))
	inner.setFail(errors.New("down"))
	_, _ = b.Fetch(t.Context(), Query{Key: "alice"})
	if b.State() != StateOpen {
		t.Fatal("circuit did not open at threshold 1")
	}
	clock.Advance(time.Second)
	inner.setFail(nil)
	inner.gate = make(chan struct{})
	inner.started = make(chan struct{}, 1)
	probeDone := make(chan error, 1)
	go func() {
		_, err := b.Fetch(t.Context(), Query{Key: "alice"})
		probeDone <- err
	}()
	<-inner.started
	// Bounded, so that a wrongly admitted call fails the test instead of
	// blocking on the gate.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if _, err := b.Fetch(ctx, Query{Key: "bob"}); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("second call during the probe: error = %v, want ErrCircuitOpen", err)
	}
	close(inner.gate)
	if err := <-probeDone; err != nil {
		t.Fatal(err)
	}
	if b.State() != StateClosed {
		t.Fatalf("state = %s, want closed", b.State())
	}
}

func TestBreakerIgnoresCallerCancellation(t *testing.T) {
	clock := newFakeClock()
	inner := ProviderFunc(func(ctx context.Context, _ Query) (Values, error) { return nil, ctx.Err() })
	b := NewBreaker(inner, WithBreaker(2, time.Second), WithClock(clock))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 5 {
		if _, err := b.Fetch(ctx, Query{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("error = %v, want context.Canceled", err)
		}
	}
	if b.State() != StateClosed {
		t.Fatalf("state = %s; the caller's cancellations opened the circuit", b.State())
	}
}

func TestBreakerCountsTimeouts(t *testing.T) {
	clock := newFakeClock()
	stuck := ProviderFunc(func(ctx context.Context, _ Query) (Values, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	b := NewBreaker(NewTimeout(stuck, 5*time.Millisecond), WithBreaker(2, time.Minute), WithClock(clock))
	for range 2 {
		if _, err := b.Fetch(t.Context(), Query{}); !errors.Is(err, ErrTimeout) {
			t.Fatalf("error = %v, want ErrTimeout", err)
		}
	}
	if _, err := b.Fetch(t.Context(), Query{}); !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("error = %v, want ErrCircuitOpen after two timeouts", err)
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{StateClosed: "closed", StateHalfOpen: "half-open", StateOpen: "open", State(9): "State(9)"} {
		if got := s.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}
