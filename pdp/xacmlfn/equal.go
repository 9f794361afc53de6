package xacmlfn

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// equal is the XACML <type>-equal function for data type dt (XACML 3.0
// A.3.1). It is the equality every bag and set function uses too.
func (l *library) equal(dt dtype, a, b ast.Value) (bool, error) {
	switch dt {
	case tString, tAnyURI:
		x, y, err := twoStrings(dt, a, b)
		return x == y, err
	case tBoolean:
		x, ok1 := a.(ast.Boolean)
		y, ok2 := b.(ast.Boolean)
		if !ok1 || !ok2 {
			return false, pairTypeError(dt, a, b)
		}
		return x == y, nil
	case tInteger:
		if x, ok := a.(ast.Number); ok {
			if y, ok := b.(ast.Number); ok && x == y {
				if _, isInt := x.Int64(); isInt {
					return true, nil
				}
			}
		}
		c, err := compareIntegers(a, b)
		return c == 0, err
	case tDouble:
		return equalDoubles(a, b)
	}
	x, y, err := twoStrings(dt, a, b)
	if err != nil {
		return false, err
	}
	switch dt {
	case tTime, tDate, tDateTime:
		if x == y {
			_, err := parseCalendar(dt, x)
			return err == nil, err
		}
		return equalCalendar(dt, x, y, l.implicitTZ)
	case tDayTimeDuration, tYearMonthDuration:
		c, err := compareDurations(dt, x, y)
		return c == 0, err
	case tHexBinary:
		return equalHex(x, y)
	case tBase64Binary:
		return equalBase64(x, y)
	case tX500Name:
		return equalX500(x, y)
	case tRFC822Name:
		return equalRFC822(x, y)
	}
	return false, fmt.Errorf("%w: XACML defines no equality for %s", ErrUnsupported, dt)
}

// compare orders two values of type dt: -1, 0 or 1. XACML defines an order
// for integer, double, string (Unicode code points), time, date and
// dateTime; the two duration types are totally ordered by value too (XPath
// defines their comparisons) and are accepted as well.
func (l *library) compare(dt dtype, a, b ast.Value) (int, error) {
	switch dt {
	case tInteger:
		return compareIntegers(a, b)
	case tDouble:
		return compareDoubles(a, b)
	case tString:
		x, y, err := twoStrings(dt, a, b)
		// Go compares strings byte-wise, which for UTF-8 is code point
		// order.
		return strings.Compare(x, y), err
	case tTime, tDate, tDateTime:
		x, y, err := twoStrings(dt, a, b)
		if err != nil {
			return 0, err
		}
		return compareCalendar(dt, x, y, l.implicitTZ)
	case tDayTimeDuration, tYearMonthDuration:
		x, y, err := twoStrings(dt, a, b)
		if err != nil {
			return 0, err
		}
		return compareDurations(dt, x, y)
	}
	return 0, fmt.Errorf("%w: XACML defines no order for %s", ErrIncomparable, dt)
}

// key returns a string that is equal for two values exactly when equal
// says they are, so that set functions over large bags can use a map.
func (l *library) key(dt dtype, v ast.Value) (string, error) {
	switch dt {
	case tBoolean:
		b, ok := v.(ast.Boolean)
		if !ok {
			return "", typeError(dt, v)
		}
		return strconv.FormatBool(bool(b)), nil
	case tInteger:
		small, b, err := integerOf(v)
		if err != nil {
			return "", err
		}
		return bigOf(small, b).String(), nil
	case tDouble:
		f, err := doubleOf(v)
		if err != nil {
			return "", err
		}
		if f == 0 {
			f = 0 // -0 equals 0
		}
		if math.IsNaN(f) {
			return doubleNaN, nil
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	}
	s, ok := v.(ast.String)
	if !ok {
		return "", typeError(dt, v)
	}
	x := string(s)
	switch dt {
	case tString, tAnyURI:
		return x, nil
	case tTime, tDate, tDateTime:
		c, err := parseCalendar(dt, x)
		if err != nil {
			return "", err
		}
		in := c.instant(dt, l.implicitTZ)
		var b strings.Builder
		b.WriteString(strconv.FormatInt(in.sec, 10))
		writeFraction(&b, in.nanos, in.excess)
		return b.String(), nil
	case tDayTimeDuration, tYearMonthDuration:
		d, err := parseDuration(dt, x)
		if err != nil {
			return "", err
		}
		return d.key(), nil
	case tHexBinary:
		if err := checkHex(x); err != nil {
			return "", err
		}
		return strings.ToUpper(x), nil
	case tBase64Binary:
		b, err := decodeBase64(x)
		return string(b), err
	case tX500Name:
		n, err := parseX500(x)
		if err != nil {
			return "", err
		}
		return n.key(), nil
	case tRFC822Name:
		return rfc822Key(x)
	}
	return "", fmt.Errorf("%w: XACML defines no equality for %s", ErrUnsupported, dt)
}

// twoStrings extracts two Rego strings holding values of type dt.
func twoStrings(dt dtype, a, b ast.Value) (string, string, error) {
	x, ok1 := a.(ast.String)
	y, ok2 := b.(ast.String)
	if !ok1 || !ok2 {
		return "", "", pairTypeError(dt, a, b)
	}
	return string(x), string(y), nil
}

func pairTypeError(dt dtype, a, b ast.Value) error {
	if err := typeError(dt, a); !matchesKind(dt, a) {
		return err
	}
	return typeError(dt, b)
}

// matchesKind reports whether v has the Rego kind that represents dt.
func matchesKind(dt dtype, v ast.Value) bool {
	switch v.(type) {
	case ast.Boolean:
		return dt == tBoolean
	case ast.Number:
		return dt == tInteger || dt == tDouble
	case ast.String:
		return dt != tBoolean && dt != tInteger
	}
	return false
}
