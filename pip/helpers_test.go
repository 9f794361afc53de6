package pip

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// fakeClock is a Clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
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

// recorder is a provider over a fixed table (key → values) that counts its
// calls and remembers the queries; fail makes it fail, gate makes it block
// until closed.
type recorder struct {
	mu      sync.Mutex
	data    map[string]Values
	queries []Query
	calls   atomic.Int64
	fail    atomic.Pointer[error]
	gate    chan struct{}
	started chan struct{}
}

func newRecorder(data map[string]Values) *recorder {
	return &recorder{data: data}
}

func (r *recorder) setFail(err error) {
	if err == nil {
		r.fail.Store(nil)
		return
	}
	r.fail.Store(&err)
}

func (r *recorder) Fetch(ctx context.Context, q Query) (Values, error) {
	r.calls.Add(1)
	r.mu.Lock()
	r.queries = append(r.queries, q)
	gate, started := r.gate, r.started
	r.mu.Unlock()
	if started != nil {
		select {
		case started <- struct{}{}:
		default:
		}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if e := r.fail.Load(); e != nil {
		return nil, *e
	}
	all := r.data[q.Key]
	if len(q.Attributes) == 0 {
		return all, nil
	}
	out := Values{}
	for _, a := range q.Attributes {
		if bag, ok := all[a]; ok {
			out[a] = bag
		}
	}
	return out, nil
}

func (r *recorder) Queries() []Query {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Query(nil), r.queries...)
}

// users is a small fixture shared by the tests.
func users() map[string]Values {
	return map[string]Values{
		"alice": {"roles": {"admin", "editor"}, "age": {int64(41)}, "email": {"alice@example.com"}},
		"bob":   {"roles": {"viewer"}},
	}
}
