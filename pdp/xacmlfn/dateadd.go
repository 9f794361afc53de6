package xacmlfn

import (
	"fmt"
	"time"
)

// addDuration implements the XACML date and time arithmetic functions
// (dateTime-add-dayTimeDuration, dateTime-add-yearMonthDuration, their
// subtract forms, and date-add/subtract-yearMonthDuration) with the
// algorithm of XML Schema Part 2 Appendix E. sign -1 subtracts, which XACML
// defines as adding the negated duration. The result keeps v's time zone,
// or its absence.
//
// A yearMonthDuration moves the month and keeps the day, clamped to the
// length of the resulting month (2004-01-31 plus P1M is 2004-02-29). A
// dayTimeDuration is an exact number of seconds; for a date it is added to
// the date's first instant and the date part of the result is kept, as in
// XPath op:add-dayTimeDuration-to-date.
func addDuration(t, dt dtype, v, dur string, sign int) (string, error) {
	if t != tDateTime && t != tDate {
		return "", fmt.Errorf("%w: date arithmetic needs a date or dateTime, not %s", ErrType, t)
	}
	if sign != 1 && sign != -1 {
		return "", fmt.Errorf("%w: sign must be 1 or -1, not %d", ErrRange, sign)
	}
	c, err := parseCalendar(t, v)
	if err != nil {
		return "", err
	}
	d, err := parseDuration(dt, dur)
	if err != nil {
		return "", err
	}
	neg := d.neg != (sign < 0)
	switch dt {
	case tYearMonthDuration:
		months := d.months
		if neg {
			months = -months
		}
		total := c.year*12 + int64(c.month-1) + months
		c.year, c.month = floorDiv(total, 12), int(floorMod(total, 12))+1
		c.day = min(c.day, daysInMonth(c.year, c.month))
	case tDayTimeDuration:
		if d.excess != "" {
			return "", fmt.Errorf("%w: duration %q is more precise than a nanosecond", ErrUnsupported, dur)
		}
		secs, nanos := d.secs, int64(d.nanos)
		if neg {
			secs, nanos = -secs, -nanos
		}
		local := daysFromCivil(c.year, c.month, c.day)*secondsPerDay +
			int64(c.hour*3600+c.minute*60+c.second) + secs
		n := int64(c.nanos) + nanos
		local += floorDiv(n, int64(time.Second))
		c.nanos = int(floorMod(n, int64(time.Second)))
		days, tod := floorDiv(local, secondsPerDay), floorMod(local, secondsPerDay)
		c.year, c.month, c.day = civilFromDays(days)
		c.hour, c.minute, c.second = int(tod/3600), int(tod/60%60), int(tod%60)
		if t == tDate {
			c.hour, c.minute, c.second, c.nanos, c.excess = 0, 0, 0, 0, ""
		}
	default:
		return "", fmt.Errorf("%w: %s is not a duration type", ErrType, dt)
	}
	if c.year <= -maxYear || c.year > maxYear {
		return "", fmt.Errorf("%w: %s plus %s leaves the supported years", ErrRange, v, dur)
	}
	return c.format(t), nil
}

// maxYear is the largest year with maxYearDigits digits, the range the
// parser accepts, so that every result can be parsed again.
const maxYear = 999_999_999
