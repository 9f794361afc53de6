package xacmlfn

import (
	"fmt"
	"strings"
)

// duration is a parsed xs:dayTimeDuration or xs:yearMonthDuration. Only the
// value matters for equality (P1D equals PT24H, XACML 3.0 A.3.1 says the
// lexical form is converted to seconds or months), so the parser folds the
// components into one magnitude.
type duration struct {
	neg    bool
	months int64 // yearMonthDuration magnitude
	secs   int64 // dayTimeDuration magnitude, whole seconds
	nanos  int
	excess string // fraction digits past the ninth, no trailing zeros
}

// maxDurationSeconds keeps a dayTimeDuration added to any supported
// dateTime inside int64 seconds.
const maxDurationSeconds = 1 << 55

const maxDurationMonths = 1 << 40

// parseDuration parses the lexical form of a dayTimeDuration
// ('-'? 'P' (n 'D')? ('T' (n 'H')? (n 'M')? (n ('.' n)? 'S')?)?) or of a
// yearMonthDuration ('-'? 'P' (n 'Y')? (n 'M')?), requiring at least one
// component and, after 'T', at least one time component.
func parseDuration(t dtype, s string) (duration, error) {
	var d duration
	i := 0
	if i < len(s) && s[i] == '-' {
		d.neg = true
		i++
	}
	if i >= len(s) || s[i] != 'P' {
		return d, durationError(t, s)
	}
	i++
	var ok bool
	switch t {
	case tYearMonthDuration:
		i, ok = d.parseYearMonth(s, i)
	case tDayTimeDuration:
		i, ok = d.parseDayTime(s, i)
	default:
		return d, fmt.Errorf("%w: %s is not a duration type", ErrType, t)
	}
	if !ok || i != len(s) {
		return d, durationError(t, s)
	}
	return d, nil
}

func durationError(t dtype, s string) error {
	return fmt.Errorf("%w: %q is not a valid %s", ErrSyntax, s, t)
}

func (d *duration) parseYearMonth(s string, i int) (int, bool) {
	last := byte(0)
	for i < len(s) {
		n, j, ok := number(s, i)
		if !ok || j >= len(s) {
			return j, false
		}
		var unit int64
		switch {
		case s[j] == 'Y' && last == 0:
			unit = 12
		case s[j] == 'M' && last != 'M':
			unit = 1
		default:
			return j, false
		}
		if n > maxDurationMonths/unit {
			return j, false
		}
		d.months += n * unit
		if d.months > maxDurationMonths {
			return j, false
		}
		last = s[j]
		i = j + 1
	}
	return i, last != 0
}

func (d *duration) parseDayTime(s string, i int) (int, bool) {
	seen := false
	if n, j, ok := number(s, i); ok {
		if j >= len(s) || s[j] != 'D' || !d.add(n, secondsPerDay) {
			return j, false
		}
		seen = true
		i = j + 1
	}
	if i >= len(s) {
		return i, seen
	}
	if s[i] != 'T' {
		return i, false
	}
	i++
	// rank is the position of the last designator read among H, M, S, so
	// that each appears at most once and in that order.
	rank := 0
	for i < len(s) {
		n, j, hasInt := number(s, i)
		if !hasInt && (j >= len(s) || s[j] != '.') {
			return j, false
		}
		nanos, excess, frac := 0, "", false
		if j < len(s) && s[j] == '.' {
			frac = true
			if j+1 < len(s) && isDigit(s[j+1]) {
				nanos, excess, j, _ = parseFraction(s, j+1)
			} else if hasInt {
				j++
			} else {
				return j, false
			}
		}
		if j >= len(s) {
			return j, false
		}
		var unit int64
		var r int
		switch s[j] {
		case 'H':
			unit, r = 3600, 1
		case 'M':
			unit, r = 60, 2
		case 'S':
			unit, r = 1, 3
		default:
			return j, false
		}
		if r <= rank || (frac && unit != 1) || !d.add(n, unit) {
			return j, false
		}
		if unit == 1 {
			d.nanos, d.excess = nanos, excess
		}
		rank = r
		i = j + 1
	}
	return i, rank > 0
}

// add adds n units of the given number of seconds, refusing magnitudes that
// arithmetic on dateTimes could not represent.
func (d *duration) add(n, unit int64) bool {
	if n > maxDurationSeconds/unit {
		return false
	}
	d.secs += n * unit
	return d.secs <= maxDurationSeconds
}

// number reads one or more decimal digits at i; ok is false when there is no
// digit or the number does not fit comfortably in int64.
func number(s string, i int) (n int64, next int, ok bool) {
	start := i
	for i < len(s) && isDigit(s[i]) {
		if i-start >= 18 {
			return 0, i, false
		}
		n = n*10 + int64(s[i]-'0')
		i++
	}
	return n, i, i > start
}

func (d duration) isZero() bool {
	return d.months == 0 && d.secs == 0 && d.nanos == 0 && d.excess == ""
}

// compare orders two durations of the same type by value.
func (d duration) compare(o duration) int {
	dn := d.neg && !d.isZero()
	on := o.neg && !o.isZero()
	if dn != on {
		if dn {
			return -1
		}
		return 1
	}
	c := d.compareMagnitude(o)
	if dn {
		return -c
	}
	return c
}

func (d duration) compareMagnitude(o duration) int {
	switch {
	case d.months != o.months:
		return cmpInt64(d.months, o.months)
	case d.secs != o.secs:
		return cmpInt64(d.secs, o.secs)
	case d.nanos != o.nanos:
		return cmpInt64(int64(d.nanos), int64(o.nanos))
	}
	return strings.Compare(d.excess, o.excess)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareDurations parses and orders two durations of type t.
func compareDurations(t dtype, a, b string) (int, error) {
	da, err := parseDuration(t, a)
	if err != nil {
		return 0, err
	}
	db, err := parseDuration(t, b)
	if err != nil {
		return 0, err
	}
	return da.compare(db), nil
}

// key is a canonical string for the value, used to deduplicate bags.
func (d duration) key() string {
	var b strings.Builder
	if d.neg && !d.isZero() {
		b.WriteByte('-')
	}
	writeInt(&b, d.months)
	b.WriteByte('/')
	writeInt(&b, d.secs)
	writeFraction(&b, d.nanos, d.excess)
	return b.String()
}

func writeInt(b *strings.Builder, v int64) {
	var buf [20]byte
	i := len(buf)
	if v == 0 {
		b.WriteByte('0')
		return
	}
	for v > 0 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	b.Write(buf[i:])
}
