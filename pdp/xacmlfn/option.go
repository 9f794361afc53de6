package xacmlfn

import (
	"fmt"
	"time"
)

// Option configures the builtins that [Options] returns. Its method is
// unexported so that only this package can define options, which keeps the
// configuration surface reviewable in one place.
type Option interface {
	applyTo(*config)
}

// config is the resolved configuration of one set of builtins.
type config struct {
	implicitTZ      time.Duration
	regexpCacheSize int
}

func defaultConfig() config {
	return config{regexpCacheSize: 512}
}

func (c config) validate() error {
	if c.implicitTZ%time.Minute != 0 || c.implicitTZ < -14*time.Hour || c.implicitTZ > 14*time.Hour {
		return fmt.Errorf("xacmlfn: implicit time zone %v is not a whole number of minutes within ±14:00", c.implicitTZ)
	}
	return nil
}

// WithImplicitTimezone sets the PDP's implicit time zone, the offset from
// UTC that XACML assigns to date, time and dateTime values written without
// one before comparing them (and to the value tested by time-in-range). The
// default is UTC. The offset must be a whole number of minutes within
// ±14:00, as XML Schema time zones are; [Options] panics otherwise, since
// that is a configuration bug, not a runtime condition.
func WithImplicitTimezone(offset time.Duration) Option {
	return implicitTimezoneOption{offset: offset}
}

type implicitTimezoneOption struct{ offset time.Duration }

func (o implicitTimezoneOption) applyTo(c *config) { c.implicitTZ = o.offset }

// WithRegexpCacheSize bounds the number of compiled regular expressions kept
// for regexp_match (default 512). Patterns usually come from policies and
// are few, but a pattern taken from a request attribute could otherwise grow
// the cache without limit. Zero or a negative size disables caching.
func WithRegexpCacheSize(n int) Option {
	return regexpCacheSizeOption{size: n}
}

type regexpCacheSizeOption struct{ size int }

func (o regexpCacheSizeOption) applyTo(c *config) { c.regexpCacheSize = o.size }
