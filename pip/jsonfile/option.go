package jsonfile

import (
	"log/slog"
	"time"

	"github.com/verdict-authz/verdict/pip"
)

// Option configures New.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// DefaultReloadInterval is how often, at most, a fetch checks whether the
// file changed.
const DefaultReloadInterval = 5 * time.Second

type config struct {
	category string
	interval time.Duration
	clock    pip.Clock
	logger   *slog.Logger
}

// WithCategory sets the category of the attributes supplied when it is not
// the key attribute's (for example resource attributes keyed by the
// subject); by default it is the key's.
func WithCategory(category string) Option {
	return optionFunc(func(c *config) { c.category = category })
}

// WithReloadInterval sets how often, at most, a fetch checks the file for
// changes; d <= 0 disables reloading, for files that never change.
// Default DefaultReloadInterval.
func WithReloadInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.interval = d })
}

// WithClock replaces the system clock that paces reload checks, so tests
// need not sleep.
func WithClock(clock pip.Clock) Option {
	return optionFunc(func(c *config) {
		if clock != nil {
			c.clock = clock
		}
	})
}

// WithLogger sets where reloads, reload failures and skipped values are
// logged; by default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
