package xacml

// Lexical validators for the XML Schema date, time and duration types
// (XML Schema Part 2, sections 3.2.7–3.2.9 and the XQuery duration subtypes).

// scanYear consumes an xs:date year: an optional '-', then four digits, or
// more without a leading zero. It returns the rest of s, whether the year is
// a leap year, and whether it was valid.
func scanYear(s string) (rest string, leap, ok bool) {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	n := digits(s)
	if n < 4 || (n > 4 && s[0] == '0') {
		return "", false, false
	}
	// The year modulo 400 decides leap years; compute it digit by digit so
	// that arbitrarily long years cannot overflow.
	mod := 0
	for i := 0; i < n; i++ {
		mod = (mod*10 + int(s[i]-'0')) % 400
	}
	leap = mod%4 == 0 && (mod%100 != 0 || mod == 0)
	return s[n:], leap, true
}

// twoDigits parses exactly two digits at the start of s.
func twoDigits(s string) (int, bool) {
	if len(s) < 2 || !isDigit(s[0]) || !isDigit(s[1]) {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// scanDate consumes YYYY-MM-DD and validates the day against the month.
func scanDate(s string) (string, bool) {
	s, leap, ok := scanYear(s)
	if !ok || len(s) < 6 || s[0] != '-' || s[3] != '-' {
		return "", false
	}
	month, ok1 := twoDigits(s[1:])
	day, ok2 := twoDigits(s[4:])
	if !ok1 || !ok2 || month < 1 || month > 12 || day < 1 {
		return "", false
	}
	maxDay := [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month]
	if month == 2 && leap {
		maxDay = 29
	}
	if day > maxDay {
		return "", false
	}
	return s[6:], true
}

// scanTime consumes hh:mm:ss with optional fractional seconds; 24:00:00 is
// allowed as the end of a day.
func scanTime(s string) (string, bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return "", false
	}
	h, ok1 := twoDigits(s)
	m, ok2 := twoDigits(s[3:])
	sec, ok3 := twoDigits(s[6:])
	if !ok1 || !ok2 || !ok3 || h > 24 || m > 59 || sec > 59 {
		return "", false
	}
	s = s[8:]
	fractionZero := true
	if s != "" && s[0] == '.' {
		n := digits(s[1:])
		if n == 0 {
			return "", false
		}
		for i := 1; i <= n; i++ {
			if s[i] != '0' {
				fractionZero = false
			}
		}
		s = s[1+n:]
	}
	if h == 24 && (m != 0 || sec != 0 || !fractionZero) {
		return "", false
	}
	return s, true
}

// isTimezone accepts an empty string (no timezone), "Z", or ±hh:mm within ±14:00.
func isTimezone(s string) bool {
	if s == "" || s == "Z" {
		return true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return false
	}
	h, ok1 := twoDigits(s[1:])
	m, ok2 := twoDigits(s[4:])
	return ok1 && ok2 && m <= 59 && (h < 14 || (h == 14 && m == 0))
}

func isDate(s string) bool {
	rest, ok := scanDate(s)
	return ok && isTimezone(rest)
}

func isTime(s string) bool {
	rest, ok := scanTime(s)
	return ok && isTimezone(rest)
}

func isDateTime(s string) bool {
	rest, ok := scanDate(s)
	if !ok || rest == "" || rest[0] != 'T' {
		return false
	}
	rest, ok = scanTime(rest[1:])
	return ok && isTimezone(rest)
}

// durationParts consumes a sequence of <digits><designator> components in
// the order given by designators, each at most once. 'S' may carry a
// fraction. It returns the rest and how many components were found.
func durationParts(s, designators string) (string, int, bool) {
	count := 0
	for s != "" {
		n := digits(s)
		if n == 0 {
			return "", 0, false
		}
		num := s[:n]
		s = s[n:]
		if s != "" && s[0] == '.' {
			f := digits(s[1:])
			if f == 0 {
				return "", 0, false
			}
			s = s[1+f:]
			num = "fraction"
		}
		if s == "" {
			return "", 0, false
		}
		i := indexByte(designators, s[0])
		if i < 0 {
			// Not a designator of this section: let the caller continue.
			return "", 0, false
		}
		if num == "fraction" && s[0] != 'S' {
			return "", 0, false
		}
		designators = designators[i+1:]
		s = s[1:]
		count++
		if s != "" && s[0] == 'T' {
			break
		}
	}
	return s, count, true
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// isDayTimeDuration accepts -?P(nD)?(T(nH)?(nM)?(n(.n)?S)?)? with at
// least one component, and at least one after a T.
func isDayTimeDuration(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || s[0] != 'P' {
		return false
	}
	s = s[1:]
	total := 0
	if s != "" && s[0] != 'T' {
		rest, n, ok := durationParts(s, "D")
		if !ok {
			return false
		}
		s, total = rest, n
	}
	if s != "" {
		if s[0] != 'T' {
			return false
		}
		rest, n, ok := durationParts(s[1:], "HMS")
		if !ok || n == 0 || rest != "" {
			return false
		}
		total += n
	}
	return total > 0
}

// isYearMonthDuration accepts -?P(nY)?(nM)? with at least one component.
func isYearMonthDuration(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || s[0] != 'P' {
		return false
	}
	rest, n, ok := durationParts(s[1:], "YM")
	return ok && n > 0 && rest == ""
}
