package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	ctx := context.Background()
	l := newLimiter(config{maxInFlight: 2, maxBytes: 100, overload: overloadConfig{maxQueued: 1, maxInFlightBytes: 100}})
	if err := l.acquire(ctx, 60); err != nil {
		t.Fatal(err)
	}
	// 60 + 60 > 100 bytes: the second waits, a third finds the queue full.
	admitted := make(chan error, 1)
	go func() { admitted <- l.acquire(ctx, 60) }()
	for {
		l.mu.Lock()
		n := len(l.queue)
		l.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := l.acquire(ctx, 1); !errors.Is(err, ErrBusy) {
		t.Fatalf("with the queue full: %v, want ErrBusy", err)
	}
	l.release(60)
	if err := <-admitted; err != nil {
		t.Fatalf("queued request: %v", err)
	}
	// One slot left and 40 bytes: a waiter whose context ends gives up.
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if err := l.acquire(short, 50); !errors.Is(err, ErrBusy) {
		t.Fatalf("past its deadline: %v, want ErrBusy", err)
	}
	if err := l.acquire(ctx, 40); err != nil {
		t.Fatalf("fits: %v", err)
	}
	short2, cancel2 := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel2()
	if err := l.acquire(short2, 0); !errors.Is(err, ErrBusy) {
		t.Fatalf("a third slot: %v, want ErrBusy", err)
	}
	l.release(40)
	l.release(60)
	if l.slots != 0 || l.bytes != 0 || len(l.queue) != 0 {
		t.Fatalf("after releasing everything: slots %d bytes %d queue %d", l.slots, l.bytes, len(l.queue))
	}
}

func TestRequestIDsAreUnique(t *testing.T) {
	g := newRequestIDs()
	seen := map[string]bool{}
	for range 1000 {
		id := g.next()
		if len(id) != 24 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("id %q is not 24 hex digits", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
	}
	if other := newRequestIDs().next(); seen[other] {
		t.Fatalf("a second server repeated id %q", other)
	}
}
