package pip

import (
	"context"
	"errors"
	"time"
)

// NewInstrumented counts the fetches, failures and latency of p in the
// Metrics given with WithMetrics (p is returned as is without them). Wrap
// places it under the cache and above the breaker, so that it sees real
// fetches and refusals of an open circuit.
func NewInstrumented(p Provider, opts ...Option) Provider {
	c := newConfig(opts)
	if c.metrics == nil {
		return p
	}
	return &instrumented{next: p, m: c.metrics, name: c.name}
}

// instrumented is the metrics wrapper.
type instrumented struct {
	next Provider
	m    *Metrics
	name string
}

// Fetch calls the provider and records the outcome.
func (i *instrumented) Fetch(ctx context.Context, q Query) (Values, error) {
	start := time.Now()
	vals, err := i.next.Fetch(ctx, q)
	i.m.fetches.WithLabelValues(i.name).Inc()
	i.m.duration.WithLabelValues(i.name).Observe(time.Since(start).Seconds())
	if err != nil {
		i.m.errs.WithLabelValues(i.name, reason(ctx, err)).Inc()
	}
	return vals, err
}

// Unwrap returns the wrapped provider, for As.
func (i *instrumented) Unwrap() Provider { return i.next }

// reason classifies a failure for the errors metric.
func reason(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, ErrCircuitOpen):
		return "circuit_open"
	case errors.Is(err, ErrTimeout):
		return "timeout"
	case ctx.Err() != nil:
		return "canceled"
	case errors.Is(err, ErrInvalidValue):
		return "invalid_value"
	}
	return "error"
}
