package pip

import (
	"context"
	"fmt"
	"time"
)

// NewTimeout bounds every fetch of p to d (d <= 0 means DefaultTimeout),
// so that a slow backend costs a decision at most d. The fetch runs
// on its own goroutine, so the caller gets ErrTimeout at the deadline even
// from a provider that ignores its context; such a provider's goroutine
// finishes in the background. A panic in p becomes an ErrProviderPanic
// failure instead of crashing the process.
func NewTimeout(p Provider, d time.Duration, opts ...Option) Provider {
	c := newConfig(opts)
	if d <= 0 {
		d = DefaultTimeout
	}
	return &timeout{next: p, d: d, name: c.name}
}

// timeout is the per-call timeout wrapper.
type timeout struct {
	next Provider
	d    time.Duration
	name string
}

type fetchResult struct {
	vals Values
	err  error
}

// Fetch calls the wrapped provider under a deadline of t.d.
func (t *timeout) Fetch(ctx context.Context, q Query) (Values, error) {
	tctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	ch := make(chan fetchResult, 1)
	go func() {
		var r fetchResult
		defer func() {
			if v := recover(); v != nil {
				r = fetchResult{err: fmt.Errorf("pip %s: %w: %v", t.name, ErrProviderPanic, v)}
			}
			ch <- r
		}()
		r.vals, r.err = t.next.Fetch(tctx, q)
	}()
	select {
	case r := <-ch:
		if r.err != nil && ctx.Err() == nil && tctx.Err() != nil {
			return nil, t.timedOut(r.err)
		}
		return r.vals, r.err
	case <-tctx.Done():
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pip %s: %w", t.name, context.Cause(ctx))
		}
		return nil, t.timedOut(nil)
	}
}

// timedOut builds the timeout error; it matches ErrTimeout and
// context.DeadlineExceeded.
func (t *timeout) timedOut(cause error) error {
	if cause != nil {
		return fmt.Errorf("pip %s: %w after %s (%w): %w", t.name, ErrTimeout, t.d, context.DeadlineExceeded, cause)
	}
	return fmt.Errorf("pip %s: %w after %s (%w)", t.name, ErrTimeout, t.d, context.DeadlineExceeded)
}

// Unwrap returns the wrapped provider, for As.
func (t *timeout) Unwrap() Provider { return t.next }
