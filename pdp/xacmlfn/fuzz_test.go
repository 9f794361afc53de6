package xacmlfn

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

var fuzzTypes = []string{
	"string", "boolean", "integer", "double", "time", "date", "dateTime", "anyURI",
	"hexBinary", "base64Binary", "dayTimeDuration", "yearMonthDuration", "x500Name",
	"rfc822Name", "ipAddress", "dnsName",
}

// FuzzValue checks that Value never panics, fails only with ErrSyntax, and
// that every accepted value prints back to a form that is accepted as the
// same value.
func FuzzValue(f *testing.F) {
	for i, s := range []string{
		"27.50", ".5", "+007", "1E400", "NaN", "-INF", "true", "0",
		"2002-03-22T08:23:47-05:00", "24:00:00", "-0001-12-31", "P1DT2H3M4.5S", "-P5Y3M",
		"cn=Anne,ou=Sun Labs,o=Sun,c=US", "a@b.c", "[::1]/[ffff::]:80-", "*.a.b:1-2",
		"aGVs bG8=", "0BF7", "http://a/b#c", " x ",
	} {
		f.Add(uint8(i), s)
	}
	f.Fuzz(func(t *testing.T, which uint8, s string) {
		typ := fuzzTypes[int(which)%len(fuzzTypes)]
		v, err := Value(typ, s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Value(%s, %q): error %v does not wrap ErrSyntax", typ, s, err)
			}
			return
		}
		lex, err := Lexical(typ, v)
		if err != nil {
			t.Fatalf("Lexical(%s, Value(%q)=%v): %v", typ, s, v, err)
		}
		again, err := Value(typ, lex)
		if err != nil {
			t.Fatalf("Value(%s, %q) after printing %q: %v", typ, lex, s, err)
		}
		if ast.Compare(v, again) != 0 {
			t.Fatalf("%s %q: %v printed as %q reads back as %v", typ, s, v, lex, again)
		}
		// Equality is reflexive wherever XACML defines it.
		l := newLibrary(nil)
		dt := parseType(typ)
		if eq, err := l.equal(dt, v, v); err == nil && !eq {
			t.Fatalf("%s %q is not equal to itself", typ, s)
		}
		if k1, err := l.key(dt, v); err == nil {
			if k2, _ := l.key(dt, again); k1 != k2 {
				t.Fatalf("%s %q: keys differ after a round trip: %q, %q", typ, s, k1, k2)
			}
		}
	})
}

// FuzzCalendar checks the hand-written date and time parser: no panics, and
// printing a parsed value gives a form that parses to the same instant.
func FuzzCalendar(f *testing.F) {
	for _, s := range []string{
		"2002-03-22T08:23:47-05:00", "2002-03-22T24:00:00Z", "-0001-01-01T00:00:00.5+14:00",
		"123456789-12-31T23:59:59.123456789123Z", "2004-02-29", "2004-02-29-12:00",
		"23:59:59.9999999999", "00:00:00Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, dt := range []dtype{tDateTime, tDate, tTime} {
			c, err := parseCalendar(dt, s)
			if err != nil {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("parseCalendar(%s, %q): %v", dt, s, err)
				}
				continue
			}
			out := c.format(dt)
			c2, err := parseCalendar(dt, out)
			if err != nil {
				t.Fatalf("%s %q printed as %q: %v", dt, s, out, err)
			}
			if a, b := c.instant(dt, 0), c2.instant(dt, 0); a.compare(b) != 0 {
				t.Fatalf("%s %q printed as %q: instant %v became %v", dt, s, out, a, b)
			}
			if c2.hasTZ != c.hasTZ || c2.tz != c.tz {
				t.Fatalf("%s %q printed as %q lost its time zone", dt, s, out)
			}
		}
	})
}

// FuzzDuration checks the duration parser: no panics, order is consistent
// with negation, and P1D-style values compare equal to their hours.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{"P1DT2H3M4.5S", "-PT0S", "PT.5S", "P1Y2M", "-P13M", "PT1.S", "P99999999999999999D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, dt := range []dtype{tDayTimeDuration, tYearMonthDuration} {
			d, err := parseDuration(dt, s)
			if err != nil {
				if !errors.Is(err, ErrSyntax) {
					t.Fatalf("parseDuration(%s, %q): %v", dt, s, err)
				}
				continue
			}
			neg := d
			neg.neg = !d.neg
			if c := d.compare(neg); (c == 0) != d.isZero() {
				t.Fatalf("%s %q compares %d with its negation", dt, s, c)
			}
			if d.compare(d) != 0 {
				t.Fatalf("%s %q is not equal to itself", dt, s)
			}
		}
	})
}

// FuzzRegexp checks that translating any pattern either fails with one of
// the package's errors or yields a pattern Go compiles, and never panics.
func FuzzRegexp(f *testing.F) {
	for _, s := range []string{
		`^[a-z-[aeiou]]+$`, `\p{IsBasicLatin}`, `(?:ab)+?`, `[^\i-[:]]`, `a{2,3}`, `\d\w\s\c`,
		`[\p{L}-[\p{Lu}]]`, `(a)\1`, `[`, `a|b|`, `.*`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		re, err := compileRegexp(pattern)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("compileRegexp(%q): unclassified error %v", pattern, err)
			}
			return
		}
		re.MatchString(pattern)
	})
}

// FuzzX500 checks the distinguished name parser: no panics, equality is
// reflexive and a name matches itself.
func FuzzX500(f *testing.F) {
	for _, s := range []string{
		"cn=Anne,ou=Sun Labs,o=Sun,c=US", "CN=a+UID=b;O=\"x, y\"", "1.2.3=#0401ff", "cn=a\\2Cb\\ ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := parseX500(s); err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("parseX500(%q): %v", s, err)
			}
			return
		}
		if eq, err := equalX500(s, s); err != nil || !eq {
			t.Fatalf("%q: equal to itself = %v, %v", s, eq, err)
		}
		if m, err := matchX500(s, s); err != nil || !m {
			t.Fatalf("%q: matches itself = %v, %v", s, m, err)
		}
	})
}

// TestCalendarAgainstTimePackage compares the hand-written parser and
// calendar arithmetic with the standard library over random instants in
// years 1 to 9999, where both use the proleptic Gregorian calendar.
func TestCalendarAgainstTimePackage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	for range 20000 {
		sec := lo + rng.Int64N(hi-lo)
		nanos := rng.IntN(1_000_000_000)
		offset := (rng.IntN(28*60+1) - 14*60) * 60
		zone := time.FixedZone("", offset)
		tm := time.Unix(sec, int64(nanos)).In(zone)
		lexical := tm.Format("2006-01-02T15:04:05.999999999-07:00")
		if tm.Year() < 1 || tm.Year() > 9999 {
			continue
		}
		c, err := parseCalendar(tDateTime, lexical)
		if err != nil {
			t.Fatalf("parseCalendar(%q): %v", lexical, err)
		}
		in := c.instant(tDateTime, 0)
		if in.sec != tm.Unix() || in.nanos != tm.Nanosecond() {
			t.Fatalf("%q: instant %d.%09d, time package %d.%09d", lexical, in.sec, in.nanos, tm.Unix(), tm.Nanosecond())
		}
		// Adding a dayTimeDuration is exact arithmetic on the local time.
		d := time.Duration(rng.Int64N(int64(400*24*time.Hour))) - 200*24*time.Hour
		d = d.Truncate(time.Millisecond)
		got, err := addDuration(tDateTime, tDayTimeDuration, lexical, formatDuration(d), 1)
		if err != nil {
			t.Fatalf("%q + %v: %v", lexical, d, err)
		}
		want := tm.Add(d)
		if want.Year() < 1 || want.Year() > 9999 {
			continue
		}
		gc, err := parseCalendar(tDateTime, got)
		if err != nil {
			t.Fatalf("%q + %v = %q: %v", lexical, d, got, err)
		}
		if gi := gc.instant(tDateTime, 0); gi.sec != want.Unix() || gi.nanos != want.Nanosecond() || gc.tz != offset/60 {
			t.Fatalf("%q + %v = %q, want %s", lexical, d, got, want.Format(time.RFC3339Nano))
		}
	}
}

// formatDuration prints d as an xs:dayTimeDuration in seconds.
func formatDuration(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("%sPT%d.%03dS", sign, d/time.Second, d%time.Second/time.Millisecond)
}
