package xacmlfn

import (
	"testing"
	"time"
)

func TestEqBuiltin(t *testing.T) {
	runRegoCases(t, Options(), []regoCase{
		// string, anyURI, boolean, integer: plain value equality.
		{`xacml.eq("string", "abc", "abc")`, `true`},
		{`xacml.eq("string", "abc", "ABC")`, `false`},
		{`xacml.eq("anyURI", "http://a/b", "http://a/b")`, `true`},
		{`xacml.eq("boolean", true, true)`, `true`},
		{`xacml.eq("boolean", true, false)`, `false`},
		{`xacml.eq("integer", 7, 7)`, `true`},
		{`xacml.eq("integer", 7, 7.0)`, `true`},
		{`xacml.eq("integer", 123456789012345678901234567890, 123456789012345678901234567890)`, `true`},
		{`xacml.eq("integer", 123456789012345678901234567890, 123456789012345678901234567891)`, `false`},
		// Type mismatches are Indeterminate, never false.
		{`xacml.eq("integer", 7, "7")`, undefined},
		{`xacml.eq("integer", 7.5, 7.5)`, undefined},
		{`xacml.eq("string", "a", 1)`, undefined},
		{`xacml.eq("boolean", "true", true)`, undefined},
		{`xacml.eq("nosuchtype", "a", "a")`, undefined},
		// double: numeric, with the special values as strings.
		{`xacml.eq("double", 1, 1.0)`, `true`},
		{`xacml.eq("double", 27.50, 27.5)`, `true`},
		{`xacml.eq("double", 0.1, 0.10000000000000001)`, `true`},
		{`xacml.eq("double", 0, -0)`, `true`},
		{`xacml.eq("double", "INF", "INF")`, `true`},
		{`xacml.eq("double", "INF", "-INF")`, `false`},
		{`xacml.eq("double", "-INF", "NaN")`, `false`},
		{`xacml.eq("double", "NaN", 1)`, `false`},
		// NaN equals NaN, as XML Schema 1.0 value equality and the XACML
		// conformance suite (IIC350) have it.
		{`xacml.eq("double", "NaN", "NaN")`, `true`},
		{`xacml.eq("double", "inf", "inf")`, undefined},
		// dateTime: instants; no time zone means the implicit one (UTC).
		{`xacml.eq("dateTime", "2002-03-22T08:23:47-05:00", "2002-03-22T13:23:47Z")`, `true`},
		{`xacml.eq("dateTime", "2002-03-22T08:23:47-05:00", "2002-03-22T08:23:47-04:00")`, `false`},
		{`xacml.eq("dateTime", "2002-03-22T13:23:47", "2002-03-22T13:23:47Z")`, `true`},
		{`xacml.eq("dateTime", "2002-03-22T13:23:47.500", "2002-03-22T13:23:47.5Z")`, `true`},
		{`xacml.eq("dateTime", "2002-03-22T13:23:47.0000000001Z", "2002-03-22T13:23:47.0000000002Z")`, `false`},
		{`xacml.eq("dateTime", "2002-03-22T13:23:47.00000000010Z", "2002-03-22T13:23:47.0000000001Z")`, `true`},
		{`xacml.eq("dateTime", "2002-03-22T24:00:00Z", "2002-03-23T00:00:00Z")`, `true`},
		{`xacml.eq("dateTime", "2002-12-31T24:00:00Z", "2003-01-01T00:00:00Z")`, `true`},
		{`xacml.eq("dateTime", "2002-03-22T23:30:00-14:00", "2002-03-23T13:30:00Z")`, `true`},
		{`xacml.eq("dateTime", "2002-03-22", "2002-03-22")`, undefined},
		{`xacml.eq("dateTime", "2002-02-30T00:00:00Z", "2002-02-30T00:00:00Z")`, undefined},
		// date: first instants in their zones.
		{`xacml.eq("date", "2002-03-22", "2002-03-22")`, `true`},
		{`xacml.eq("date", "2002-03-22Z", "2002-03-22")`, `true`},
		{`xacml.eq("date", "2002-03-22-05:00", "2002-03-22Z")`, `false`},
		{`xacml.eq("date", "2004-02-29", "2004-02-29")`, `true`},
		{`xacml.eq("date", "2003-02-29", "2003-02-29")`, undefined},
		{`xacml.eq("date", "2000-02-29", "2000-02-29")`, `true`},
		{`xacml.eq("date", "1900-02-29", "1900-02-29")`, undefined},
		// time: XPath places times on one reference day.
		{`xacml.eq("time", "08:23:47-05:00", "13:23:47Z")`, `true`},
		{`xacml.eq("time", "08:23:47-05:00", "08:23:47-04:00")`, `false`},
		{`xacml.eq("time", "24:00:00", "00:00:00")`, `true`},
		{`xacml.eq("time", "23:00:00-05:00", "04:00:00Z")`, `false`},
		{`xacml.eq("time", "24:00:01", "24:00:01")`, undefined},
		// durations: by value.
		{`xacml.eq("dayTimeDuration", "P1D", "PT24H")`, `true`},
		{`xacml.eq("dayTimeDuration", "PT90M", "PT1H30M")`, `true`},
		{`xacml.eq("dayTimeDuration", "PT0S", "-PT0S")`, `true`},
		{`xacml.eq("dayTimeDuration", "PT1.50S", "PT1.5S")`, `true`},
		{`xacml.eq("dayTimeDuration", "-P1D", "P1D")`, `false`},
		{`xacml.eq("dayTimeDuration", "P1Y", "P1Y")`, undefined},
		{`xacml.eq("yearMonthDuration", "P1Y", "P12M")`, `true`},
		{`xacml.eq("yearMonthDuration", "-P5Y3M", "-P63M")`, `true`},
		{`xacml.eq("yearMonthDuration", "P1D", "P1D")`, undefined},
		// x500Name: RFC 2253 normalisation, RFC 3280 comparison.
		{`xacml.eq("x500Name", "cn=AHA,ou=Sun Labs,o=Sun,c=US", "  CN=aha, OU=Sun  Labs, O=Sun,C=us")`, `true`},
		{`xacml.eq("x500Name", "cn=Anne,o=Sun,c=US", "cn=AHA,o=Sun,c=US")`, `false`},
		{`xacml.eq("x500Name", "2.5.4.3=Anne,o=Sun", "CN=anne,O=SUN")`, `true`},
		{`xacml.eq("x500Name", "cn=A+uid=x,o=Sun", "UID=X+CN=a,o=Sun")`, `true`},
		{`xacml.eq("x500Name", "cn=Smith\\, John,o=Sun", "cn=\"smith, john\",o=sun")`, `true`},
		{`xacml.eq("x500Name", "o=Sun,c=US", "c=US,o=Sun")`, `false`},
		{`xacml.eq("x500Name", "cn=", "cn=")`, `true`},
		{`xacml.eq("x500Name", "cn", "cn")`, undefined},
		// rfc822Name: local part exact, domain case-insensitive.
		{`xacml.eq("rfc822Name", "Anderson@SUN.COM", "Anderson@sun.com")`, `true`},
		{`xacml.eq("rfc822Name", "anderson@sun.com", "Anderson@sun.com")`, `false`},
		{`xacml.eq("rfc822Name", "sun.com", "sun.com")`, undefined},
		// binary types: octets.
		{`xacml.eq("hexBinary", "0BF7A9876CDE", "0bf7a9876cde")`, `true`},
		{`xacml.eq("hexBinary", "0BF7A9876CDE", "0BF7A9876CEE")`, `false`},
		{`xacml.eq("hexBinary", "0BF", "0BF")`, undefined},
		{`xacml.eq("base64Binary", "aGVsbG8=", "aGVs bG8=")`, `true`},
		{`xacml.eq("base64Binary", "aGVsbG8=", "aGVsbG9=")`, undefined},
		{`xacml.eq("base64Binary", "aGVsbG8=", "d29ybGQ=")`, `false`},
		// No equality is defined for these.
		{`xacml.eq("ipAddress", "10.0.0.1", "10.0.0.1")`, undefined},
		{`xacml.eq("dnsName", "a.example.com", "a.example.com")`, undefined},
	})
}

func TestEqImplicitTimezone(t *testing.T) {
	plus2 := Options(WithImplicitTimezone(2 * time.Hour))
	runRegoCases(t, plus2, []regoCase{
		{`xacml.eq("dateTime", "2002-03-22T13:23:47", "2002-03-22T11:23:47Z")`, `true`},
		{`xacml.eq("dateTime", "2002-03-22T13:23:47", "2002-03-22T13:23:47Z")`, `false`},
		{`xacml.eq("date", "2002-03-22", "2002-03-22+02:00")`, `true`},
		{`xacml.eq("time", "10:00:00", "08:00:00Z")`, `true`},
		{`xacml.cmp("dateTime", "2002-03-22T13:00:00", "2002-03-22T12:00:00Z")`, `-1`},
	})
}

func TestCmpBuiltin(t *testing.T) {
	runRegoCases(t, Options(), []regoCase{
		{`xacml.cmp("integer", 1, 2)`, `-1`},
		{`xacml.cmp("integer", 2, 2)`, `0`},
		{`xacml.cmp("integer", 99999999999999999999999, 2)`, `1`},
		{`xacml.cmp("integer", -99999999999999999999999, -99999999999999999999998)`, `-1`},
		{`xacml.cmp("double", 1.5, 2)`, `-1`},
		{`xacml.cmp("double", "-INF", -1e308)`, `-1`},
		{`xacml.cmp("double", "INF", 1e308)`, `1`},
		{`xacml.cmp("double", "INF", "INF")`, `0`},
		{`xacml.cmp("double", "NaN", 1)`, undefined},
		{`xacml.cmp("double", 1, "NaN")`, undefined},
		{`xacml.cmp("string", "a", "b")`, `-1`},
		{`xacml.cmp("string", "b", "a")`, `1`},
		{`xacml.cmp("string", "abc", "abc")`, `0`},
		{`xacml.cmp("string", "Z", "a")`, `-1`},
		// Code point order: U+FFFD sorts before U+10000.
		{"xacml.cmp(\"string\", \"\uFFFD\", \"\U00010000\")", `-1`},
		{`xacml.cmp("dateTime", "2002-03-22T08:23:47-05:00", "2002-03-22T13:23:48Z")`, `-1`},
		{`xacml.cmp("dateTime", "2002-03-22T08:23:47-05:00", "2002-03-22T13:23:47Z")`, `0`},
		{`xacml.cmp("dateTime", "-0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z")`, `-1`},
		{`xacml.cmp("dateTime", "12345-01-01T00:00:00Z", "9999-12-31T23:59:59Z")`, `1`},
		{`xacml.cmp("date", "2002-04-12", "2002-03-22")`, `1`},
		{`xacml.cmp("date", "2002-03-22+13:00", "2002-03-21Z")`, `1`},
		{`xacml.cmp("time", "08:23:47-05:00", "08:23:46-05:00")`, `1`},
		{`xacml.cmp("time", "08:23:47", "08:23:47.001")`, `-1`},
		// Times with and without a zone are incomparable in XACML.
		{`xacml.cmp("time", "08:23:47Z", "08:23:47")`, undefined},
		{`xacml.cmp("dayTimeDuration", "PT23H", "P1D")`, `-1`},
		{`xacml.cmp("dayTimeDuration", "-P2D", "-P1D")`, `-1`},
		{`xacml.cmp("yearMonthDuration", "P1Y1M", "P13M")`, `0`},
		{`xacml.cmp("boolean", true, false)`, undefined},
		{`xacml.cmp("anyURI", "a", "b")`, undefined},
		{`xacml.cmp("integer", "1", 2)`, undefined},
	})
}
