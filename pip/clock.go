package pip

import "time"

// Clock tells the time to the cache and the circuit breaker, so that tests
// can move time forward instead of sleeping.
type Clock interface {
	Now() time.Time
}

// systemClock is the real time.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
