package xacmlfn

import (
	"fmt"
	"strings"
)

// calendar holds a parsed xs:date, xs:time or xs:dateTime value. The parser
// is hand-written because these values are compared on the decision hot path:
// it does not allocate, and it keeps every field of the lexical form so that
// arithmetic can print a result in the same time zone.
type calendar struct {
	year   int64 // astronomical year numbering: 0 is 1 BCE, -1 is 2 BCE
	month  int   // 1..12 (unused for time)
	day    int   // 1..31 (unused for time)
	hour   int   // 0..23 (24:00:00 is normalised when parsed)
	minute int
	second int
	nanos  int // 0..999,999,999
	// excess holds fractional-second digits past the ninth, without
	// trailing zeros, so that values differing only there still compare
	// exactly (XML Schema allows arbitrary precision).
	excess string
	tz     int  // time zone offset in minutes east of UTC
	hasTZ  bool // false when the lexical form has no time zone
	zulu   bool // the time zone was written "Z"
}

// maxYearDigits bounds the year so that instants, in seconds, stay well
// inside int64 (10^9 years is about 3.2*10^16 seconds).
const maxYearDigits = 9

const secondsPerDay = 86400

// parseCalendar parses the lexical form of a date, time or dateTime
// (XML Schema 1.0 Part 2, 3.2.7 to 3.2.9).
func parseCalendar(t dtype, s string) (calendar, error) {
	var c calendar
	i := 0
	var ok bool
	switch t {
	case tDateTime:
		if i, ok = c.parseDate(s, 0); !ok || i >= len(s) || s[i] != 'T' {
			return c, calendarError(t, s)
		}
		if i, ok = c.parseTimeOfDay(s, i+1); !ok {
			return c, calendarError(t, s)
		}
	case tDate:
		if i, ok = c.parseDate(s, 0); !ok {
			return c, calendarError(t, s)
		}
	case tTime:
		if i, ok = c.parseTimeOfDay(s, 0); !ok {
			return c, calendarError(t, s)
		}
	default:
		return c, fmt.Errorf("%w: %s is not a date or time type", ErrType, t)
	}
	if i, ok = c.parseZone(s, i); !ok || i != len(s) {
		return c, calendarError(t, s)
	}
	if c.hour == 24 {
		// 24:00:00 is the first instant of the next day (XML Schema 1.0,
		// 3.2.7); a time has no day, so it is simply midnight.
		c.hour = 0
		if t == tDateTime {
			c.addDays(1)
		}
	}
	return c, nil
}

func calendarError(t dtype, s string) error {
	return fmt.Errorf("%w: %q is not a valid %s", ErrSyntax, s, t)
}

// parseDate reads '-'? yyyy '-' mm '-' dd starting at i and returns the index
// after it.
func (c *calendar) parseDate(s string, i int) (int, bool) {
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	start := i
	var year int64
	for i < len(s) && isDigit(s[i]) {
		if i-start >= maxYearDigits {
			return i, false
		}
		year = year*10 + int64(s[i]-'0')
		i++
	}
	n := i - start
	// At least four digits; more than four only without a leading zero.
	if n < 4 || (n > 4 && s[start] == '0') || year == 0 {
		return i, false
	}
	if neg {
		// XML Schema 1.0 has no year 0: -0001 is 1 BCE, astronomical 0.
		year = -year + 1
	}
	c.year = year
	var ok bool
	if i, ok = expect(s, i, '-'); !ok {
		return i, false
	}
	if c.month, i, ok = twoDigits(s, i); !ok || c.month < 1 || c.month > 12 {
		return i, false
	}
	if i, ok = expect(s, i, '-'); !ok {
		return i, false
	}
	if c.day, i, ok = twoDigits(s, i); !ok || c.day < 1 || c.day > daysInMonth(c.year, c.month) {
		return i, false
	}
	return i, true
}

// parseTimeOfDay reads hh ':' mm ':' ss ('.' s+)? starting at i.
func (c *calendar) parseTimeOfDay(s string, i int) (int, bool) {
	var ok bool
	if c.hour, i, ok = twoDigits(s, i); !ok || c.hour > 24 {
		return i, false
	}
	if i, ok = expect(s, i, ':'); !ok {
		return i, false
	}
	if c.minute, i, ok = twoDigits(s, i); !ok || c.minute > 59 {
		return i, false
	}
	if i, ok = expect(s, i, ':'); !ok {
		return i, false
	}
	if c.second, i, ok = twoDigits(s, i); !ok || c.second > 59 {
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		if c.nanos, c.excess, i, ok = parseFraction(s, i+1); !ok {
			return i, false
		}
	}
	if c.hour == 24 && (c.minute != 0 || c.second != 0 || c.nanos != 0 || c.excess != "") {
		return i, false
	}
	return i, true
}

// parseFraction reads one or more digits of a fraction starting at i and
// returns them as nanoseconds plus the significant digits past the ninth.
func parseFraction(s string, i int) (nanos int, excess string, next int, ok bool) {
	start := i
	for i < len(s) && isDigit(s[i]) {
		if i-start < 9 {
			nanos = nanos*10 + int(s[i]-'0')
		}
		i++
	}
	n := i - start
	if n == 0 {
		return 0, "", i, false
	}
	for k := n; k < 9; k++ {
		nanos *= 10
	}
	if n > 9 {
		excess = strings.TrimRight(s[start+9:i], "0")
	}
	return nanos, excess, i, true
}

// parseZone reads an optional time zone: 'Z' or ('+'|'-') hh ':' mm with
// |offset| <= 14:00.
func (c *calendar) parseZone(s string, i int) (int, bool) {
	if i >= len(s) {
		return i, true
	}
	switch s[i] {
	case 'Z':
		c.hasTZ, c.zulu = true, true
		return i + 1, true
	case '+', '-':
		sign := 1
		if s[i] == '-' {
			sign = -1
		}
		h, j, ok := twoDigits(s, i+1)
		if !ok {
			return j, false
		}
		if j, ok = expect(s, j, ':'); !ok {
			return j, false
		}
		m, j, ok := twoDigits(s, j)
		if !ok || m > 59 || h > 14 || (h == 14 && m != 0) {
			return j, false
		}
		c.hasTZ = true
		c.tz = sign * (h*60 + m)
		return j, true
	}
	return i, false
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func expect(s string, i int, b byte) (int, bool) {
	if i < len(s) && s[i] == b {
		return i + 1, true
	}
	return i, false
}

func twoDigits(s string, i int) (int, int, bool) {
	if i+2 > len(s) || !isDigit(s[i]) || !isDigit(s[i+1]) {
		return 0, i, false
	}
	return int(s[i]-'0')*10 + int(s[i+1]-'0'), i + 2, true
}

// isLeap uses astronomical year numbering, where the proleptic Gregorian
// rules apply unchanged to negative years.
func isLeap(y int64) bool {
	return y%4 == 0 && (y%100 != 0 || y%400 == 0)
}

func daysInMonth(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (astronomical year numbering).
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400 // [0, 399]
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1     // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y int64, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100) // [0, 365]
	mp := (5*doy + 2) / 153                  // [0, 11]
	d = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	return a - floorDiv(a, b)*b
}

// addDays moves the date part by n days.
func (c *calendar) addDays(n int64) {
	c.year, c.month, c.day = civilFromDays(daysFromCivil(c.year, c.month, c.day) + n)
}

// instant is a point on the time line used to compare calendar values: whole
// seconds since 1970-01-01T00:00:00Z, nanoseconds, and the excess fraction
// digits.
type instant struct {
	sec    int64
	nanos  int
	excess string
}

// instant places c on the time line; a value without a time zone takes the
// implicit one (minutes east of UTC). A date is its first moment; a time is
// placed on the reference day 1970-01-01, so that, as in XPath, a time whose
// zone pushes it past midnight is not equal to the earlier time of the same
// day.
func (c *calendar) instant(t dtype, implicitTZ int) instant {
	tz := c.tz
	if !c.hasTZ {
		tz = implicitTZ
	}
	var days int64
	if t != tTime {
		days = daysFromCivil(c.year, c.month, c.day)
	}
	sec := days*secondsPerDay + int64(c.hour*3600+c.minute*60+c.second) - int64(tz*60)
	return instant{sec: sec, nanos: c.nanos, excess: c.excess}
}

func (a instant) compare(b instant) int {
	switch {
	case a.sec < b.sec:
		return -1
	case a.sec > b.sec:
		return 1
	case a.nanos < b.nanos:
		return -1
	case a.nanos > b.nanos:
		return 1
	}
	// Both excess strings have no trailing zeros, so comparing them as
	// strings compares them as fractions.
	return strings.Compare(a.excess, b.excess)
}

// compareCalendar orders two values of the same date or time type. Dates and
// dateTimes without a time zone take the implicit one (XACML 3.0 A.3.8). Two
// times only one of which has a time zone are incomparable: XACML 3.0 says
// such a comparison is illegal and points to time-in-range instead.
func compareCalendar(t dtype, a, b string, implicitTZ int) (int, error) {
	ca, err := parseCalendar(t, a)
	if err != nil {
		return 0, err
	}
	cb, err := parseCalendar(t, b)
	if err != nil {
		return 0, err
	}
	if t == tTime && ca.hasTZ != cb.hasTZ {
		return 0, fmt.Errorf("%w: times %q and %q, only one of which has a time zone", ErrIncomparable, a, b)
	}
	ia, ib := ca.instant(t, implicitTZ), cb.instant(t, implicitTZ)
	return ia.compare(ib), nil
}

// equalCalendar is the XPath op:date-equal, op:time-equal and
// op:dateTime-equal: the instants are equal, values without a time zone
// taking the implicit one.
func equalCalendar(t dtype, a, b string, implicitTZ int) (bool, error) {
	ca, err := parseCalendar(t, a)
	if err != nil {
		return false, err
	}
	cb, err := parseCalendar(t, b)
	if err != nil {
		return false, err
	}
	return ca.instant(t, implicitTZ).compare(cb.instant(t, implicitTZ)) == 0, nil
}

// format prints c as the lexical form of t, in c's own time zone.
func (c *calendar) format(t dtype) string {
	var b strings.Builder
	b.Grow(40)
	if t != tTime {
		y := c.year
		if y <= 0 {
			// Back to XML Schema 1.0 numbering, which skips year 0.
			b.WriteByte('-')
			y = -y + 1
		}
		writeYear(&b, y)
		b.WriteByte('-')
		writeTwo(&b, c.month)
		b.WriteByte('-')
		writeTwo(&b, c.day)
	}
	if t == tDateTime {
		b.WriteByte('T')
	}
	if t != tDate {
		writeTwo(&b, c.hour)
		b.WriteByte(':')
		writeTwo(&b, c.minute)
		b.WriteByte(':')
		writeTwo(&b, c.second)
		writeFraction(&b, c.nanos, c.excess)
	}
	if c.hasTZ {
		if c.zulu {
			b.WriteByte('Z')
		} else {
			tz := c.tz
			if tz < 0 {
				b.WriteByte('-')
				tz = -tz
			} else {
				b.WriteByte('+')
			}
			writeTwo(&b, tz/60)
			b.WriteByte(':')
			writeTwo(&b, tz%60)
		}
	}
	return b.String()
}

func writeYear(b *strings.Builder, y int64) {
	var buf [20]byte
	i := len(buf)
	for y > 0 || i > len(buf)-4 {
		i--
		buf[i] = byte('0' + y%10)
		y /= 10
	}
	b.Write(buf[i:])
}

func writeTwo(b *strings.Builder, v int) {
	b.WriteByte(byte('0' + v/10))
	b.WriteByte(byte('0' + v%10))
}

// writeFraction writes '.' and the significant fraction digits, or nothing
// for a whole number of seconds.
func writeFraction(b *strings.Builder, nanos int, excess string) {
	if nanos == 0 && excess == "" {
		return
	}
	var buf [9]byte
	for i := 8; i >= 0; i-- {
		buf[i] = byte('0' + nanos%10)
		nanos /= 10
	}
	digits := buf[:]
	if excess == "" {
		for len(digits) > 0 && digits[len(digits)-1] == '0' {
			digits = digits[:len(digits)-1]
		}
	}
	b.WriteByte('.')
	b.Write(digits)
	b.WriteString(excess)
}
