package server

import (
	"context"
	"fmt"
	"net/http"
	"sync"
)

// DefaultMaxQueued bounds the requests waiting for a decision slot; past
// it a request is refused at once (503 / RESOURCE_EXHAUSTED), so that an
// overload costs neither memory nor the time of clients that would only
// time out in the queue.
const DefaultMaxQueued = 1024

// DefaultMaxInFlightBytes bounds the request bodies being decoded and
// decided at once (by their Content-Length, or the body limit when none is
// given). Slots alone would let 256 batches of a megabyte each be held at
// once, and a decoded batch with its decisions takes 10-15 times its JSON
// size: with 32 MiB here a 60-second overload of 2,048 clients reached
// 735 MiB of heap; 8 MiB still admits every small request up to the slot
// limit and more batches than two cores can decide within a deadline.
const DefaultMaxInFlightBytes = 8 << 20

// retryAfterSeconds is the Retry-After of an overload answer.
const retryAfterSeconds = "1"

// WithMaxQueued bounds the requests waiting for a decision slot (default
// DefaultMaxQueued); beyond it requests are refused at once.
func WithMaxQueued(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.overload.maxQueued = n
		}
	})
}

// WithMaxInFlightBytes bounds the HTTP request bodies in flight at once
// (default DefaultMaxInFlightBytes, at least the body limit).
func WithMaxInFlightBytes(n int64) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.overload.maxInFlightBytes = n
		}
	})
}

// overloadConfig holds the options of this file (zero: the defaults).
type overloadConfig struct {
	maxQueued        int
	maxInFlightBytes int64
}

// limiter admits requests while fewer than slots are in flight and their
// bodies fit in bytes; others wait in FIFO order, at most maxQueued of
// them, until their context ends.
type limiter struct {
	mu        sync.Mutex
	slots     int
	bytes     int64
	maxSlots  int
	maxBytes  int64
	maxQueued int
	queue     []*waiter
}

type waiter struct {
	n     int64
	ready chan struct{}
	// admitted is set under mu when the waiter was given its share.
	admitted bool
}

func newLimiter(c config) *limiter {
	l := &limiter{maxSlots: c.maxInFlight, maxBytes: c.overload.maxInFlightBytes, maxQueued: c.overload.maxQueued}
	if l.maxBytes == 0 {
		l.maxBytes = DefaultMaxInFlightBytes
	}
	l.maxBytes = max(l.maxBytes, c.maxBytes)
	if l.maxQueued == 0 {
		l.maxQueued = DefaultMaxQueued
	}
	return l
}

func (l *limiter) fits(n int64) bool {
	return l.slots < l.maxSlots && (l.bytes+n <= l.maxBytes || l.bytes == 0)
}

// acquire takes a slot and n bytes, waiting until ctx ends at most.
func (l *limiter) acquire(ctx context.Context, n int64) error {
	l.mu.Lock()
	if len(l.queue) == 0 && l.fits(n) {
		l.slots++
		l.bytes += n
		l.mu.Unlock()
		return nil
	}
	if len(l.queue) >= l.maxQueued {
		l.mu.Unlock()
		return fmt.Errorf("%w (limit %d, %d more waiting)", ErrBusy, l.maxSlots, l.maxQueued)
	}
	w := &waiter{n: n, ready: make(chan struct{})}
	l.queue = append(l.queue, w)
	l.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.admitted {
		// Admitted just as the context ended: give the share back.
		l.releaseLocked(n)
		return fmt.Errorf("%w (limit %d)", ErrBusy, l.maxSlots)
	}
	for i, q := range l.queue {
		if q == w {
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			break
		}
	}
	// A large body at the head may have been blocking smaller ones.
	l.admitLocked()
	return fmt.Errorf("%w (limit %d)", ErrBusy, l.maxSlots)
}

// release returns a slot and n bytes taken by acquire.
func (l *limiter) release(n int64) {
	l.mu.Lock()
	l.releaseLocked(n)
	l.mu.Unlock()
}

func (l *limiter) releaseLocked(n int64) {
	l.slots--
	l.bytes -= n
	l.admitLocked()
}

// admitLocked wakes waiters from the head of the queue while they fit.
func (l *limiter) admitLocked() {
	for len(l.queue) > 0 && l.fits(l.queue[0].n) {
		w := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		l.slots++
		l.bytes += w.n
		w.admitted = true
		close(w.ready)
	}
}

// bodyWeight is what an HTTP request's body counts against the in-flight
// bytes: its declared length, or the body limit when it declares none or
// more (it is then refused with 413 after reading at most that).
func (s *Server) bodyWeight(r *http.Request) int64 {
	if r.ContentLength >= 0 && r.ContentLength <= s.cfg.maxBytes {
		return r.ContentLength
	}
	return s.cfg.maxBytes
}

// acquireBody is acquire for an HTTP request of weight n (bodyWeight).
func (s *Server) acquireBody(ctx context.Context, n int64) error {
	if err := s.limit.acquire(ctx, n); err != nil {
		return err
	}
	s.metrics.inFlight.Inc()
	return nil
}

// releaseBody gives back what acquireBody took.
func (s *Server) releaseBody(n int64) {
	s.metrics.inFlight.Dec()
	s.limit.release(n)
}
