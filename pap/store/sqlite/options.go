package sqlite

import "time"

// Option configures Open. Options are values so that callers can assemble
// them from configuration; the unexported method keeps the set closed.
type Option interface {
	apply(*config)
}

type config struct {
	busyTimeout time.Duration
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// DefaultBusyTimeout is how long a statement waits for another process's
// write lock before failing with SQLITE_BUSY when WithBusyTimeout is not
// given: long enough for any push to finish.
const DefaultBusyTimeout = 5 * time.Second

// WithBusyTimeout sets how long a statement waits for another process
// holding the database's write lock (e.g. a second PAP or a backup tool on
// the same file) before failing. Writers of this Store never wait on each
// other through it: they queue on one connection.
func WithBusyTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.busyTimeout = d })
}
