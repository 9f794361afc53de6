package pip

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// State is the state of a circuit breaker.
type State int

// Breaker states. A closed circuit calls the provider; an open one refuses
// at once with ErrCircuitOpen; a half-open one lets a single probe through
// and refuses the rest until the probe tells whether the provider is back.
const (
	StateClosed State = iota
	StateHalfOpen
	StateOpen
)

// String returns the state's name as used in logs.
func (s State) String() string {
	switch s {
	case StateClosed:
		return "closed"
	case StateHalfOpen:
		return "half-open"
	case StateOpen:
		return "open"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Breaker is a circuit breaker around a provider, so that a failing
// backend costs a decision nothing (an immediate ErrCircuitOpen failure)
// instead of a timeout each time, and gets time to recover.
//
// After the configured number of consecutive failures (WithBreaker) the
// circuit opens; after the cool-down the next call is a probe: success
// closes the circuit, failure opens it again for another cool-down. A
// failure caused by the caller's own context ending does not count against
// the provider. Put a timeout inside the breaker (Wrap does), or a probe
// that never returns keeps the circuit half-open.
type Breaker struct {
	next Provider
	cfg  config

	mu       sync.Mutex
	state    State
	failures int
	openedAt time.Time
	probing  bool
}

// NewBreaker wraps p in a circuit breaker configured by WithBreaker (a
// threshold <= 0 here means DefaultFailureThreshold), WithClock, WithName,
// WithLogger and WithMetrics.
func NewBreaker(p Provider, opts ...Option) *Breaker {
	c := newConfig(opts)
	if c.threshold <= 0 {
		c.threshold = DefaultFailureThreshold
	}
	b := &Breaker{next: p, cfg: c}
	c.metrics.circuitState(c.name, StateClosed)
	return b
}

// State reports the circuit's state as the next call would see it (an
// open circuit whose cool-down has passed is reported half-open), for
// health checks.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == StateOpen && !b.cfg.clock.Now().Before(b.openedAt.Add(b.cfg.cooldown)) {
		return StateHalfOpen
	}
	return b.state
}

// Fetch calls the provider unless the circuit is open.
func (b *Breaker) Fetch(ctx context.Context, q Query) (Values, error) {
	probe, err := b.admit()
	if err != nil {
		return nil, err
	}
	vals, err := b.next.Fetch(ctx, q)
	b.record(ctx, probe, err)
	return vals, err
}

// admit decides whether a call may go through and whether it is the probe.
func (b *Breaker) admit() (probe bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case StateClosed:
		return false, nil
	case StateOpen:
		until := b.openedAt.Add(b.cfg.cooldown)
		if b.cfg.clock.Now().Before(until) {
			return false, fmt.Errorf("pip %s: %w until %s", b.cfg.name, ErrCircuitOpen, until.Format(time.RFC3339))
		}
		b.setState(StateHalfOpen)
	}
	if b.probing {
		return false, fmt.Errorf("pip %s: %w (probe in flight)", b.cfg.name, ErrCircuitOpen)
	}
	b.probing = true
	return true, nil
}

// record updates the state with the outcome of an admitted call.
func (b *Breaker) record(ctx context.Context, probe bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if probe {
		b.probing = false
	}
	callerGaveUp := err != nil && ctx.Err() != nil
	switch {
	case callerGaveUp:
		// Not the provider's fault; a half-open circuit lets the next
		// call probe instead.
	case !probe && b.state != StateClosed:
		// A call admitted before the circuit opened: the probe decides.
	case err == nil:
		b.failures = 0
		if b.state != StateClosed {
			b.cfg.logger.Info("pip circuit closed", "pip", b.cfg.name)
			b.setState(StateClosed)
		}
	case probe:
		b.open(err)
	default:
		b.failures++
		if b.failures >= b.cfg.threshold {
			b.open(err)
		}
	}
}

func (b *Breaker) open(err error) {
	b.openedAt = b.cfg.clock.Now()
	b.failures = 0
	b.cfg.logger.Warn("pip circuit open", "pip", b.cfg.name, "cooldown", b.cfg.cooldown, "err", err)
	b.setState(StateOpen)
}

func (b *Breaker) setState(s State) {
	b.state = s
	b.cfg.metrics.circuitState(b.cfg.name, s)
}

// Unwrap returns the wrapped provider, for As.
func (b *Breaker) Unwrap() Provider { return b.next }
