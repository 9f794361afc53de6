package xacmlfn

import "time"

// timeInRange is XACML time-in-range (A.3.8): whether v falls, inclusively,
// between lo and hi, where hi is taken to be at or after lo by less than 24
// hours, so that a range like 22:00 to 06:00 wraps past midnight. v without a
// time zone takes the PDP's implicit one; lo and hi without a time zone take
// v's.
func (l *library) timeInRange(v, lo, hi string) (bool, error) {
	cv, err := parseCalendar(tTime, v)
	if err != nil {
		return false, err
	}
	cl, err := parseCalendar(tTime, lo)
	if err != nil {
		return false, err
	}
	ch, err := parseCalendar(tTime, hi)
	if err != nil {
		return false, err
	}
	tz := l.implicitTZ
	if cv.hasTZ {
		tz = cv.tz
	}
	day := int64(24 * time.Hour)
	at := cv.nanosOfDayUTC(tz)
	from := cl.nanosOfDayUTC(tz)
	to := ch.nanosOfDayUTC(tz)
	span := floorMod(to-from, day)
	return floorMod(at-from, day) <= span, nil
}

// nanosOfDayUTC returns the time of day in UTC, in nanoseconds, using
// defaultTZ (minutes) when c has no time zone. Fraction digits past the
// nanosecond are ignored here.
func (c *calendar) nanosOfDayUTC(defaultTZ int) int64 {
	tz := defaultTZ
	if c.hasTZ {
		tz = c.tz
	}
	sec := int64(c.hour*3600+c.minute*60+c.second) - int64(tz*60)
	return floorMod(sec*int64(time.Second)+int64(c.nanos), int64(24*time.Hour))
}
