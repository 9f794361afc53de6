package pdp

import (
	"log/slog"
	"time"

	"github.com/verdict-authz/verdict/pdp/xacmlfn"
	"github.com/verdict-authz/verdict/pip"
)

// Option configures an Engine.
type Option interface{ apply(*config) }

type config struct {
	logger *slog.Logger
	pips   *pip.Set
	fnOpts []xacmlfn.Option
	now    func() time.Time
	cache  *Cache
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { c.logger = l })
}

// WithPIPs sets the attribute providers asked for attributes a request
// lacks. Without it, an absent attribute is an empty bag.
func WithPIPs(s *pip.Set) Option {
	return optionFunc(func(c *config) { c.pips = s })
}

// WithFunctionOptions configures the XACML function runtime (for example
// the implicit time zone).
func WithFunctionOptions(opts ...xacmlfn.Option) Option {
	return optionFunc(func(c *config) { c.fnOpts = append(c.fnOpts, opts...) })
}

// WithClock sets the clock that dates the current-time, current-date and
// current-dateTime environment attributes the engine supplies when a request
// lacks them (default time.Now), so that tests and replays can fix it.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(c *config) { c.now = now })
}

// WithCache lets the engine share compiled policies with the other engines
// of the process that use the same Cache: a policy whose content another
// engine compiled is activated without compiling it again. Engines with
// WithFunctionOptions always compile their own.
func WithCache(c *Cache) Option {
	return optionFunc(func(cfg *config) { cfg.cache = c })
}
