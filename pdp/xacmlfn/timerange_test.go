package xacmlfn

import (
	"testing"
	"time"
)

func TestTimeInRangeBuiltin(t *testing.T) {
	runRegoCases(t, Options(), []regoCase{
		{`xacml.time_in_range("12:00:00Z", "09:00:00Z", "17:00:00Z")`, `true`},
		{`xacml.time_in_range("09:00:00Z", "09:00:00Z", "17:00:00Z")`, `true`},
		{`xacml.time_in_range("17:00:00Z", "09:00:00Z", "17:00:00Z")`, `true`},
		{`xacml.time_in_range("08:59:59.999Z", "09:00:00Z", "17:00:00Z")`, `false`},
		{`xacml.time_in_range("17:00:00.001Z", "09:00:00Z", "17:00:00Z")`, `false`},
		// The upper bound earlier than the lower one wraps past midnight.
		{`xacml.time_in_range("23:00:00Z", "22:00:00Z", "06:00:00Z")`, `true`},
		{`xacml.time_in_range("03:00:00Z", "22:00:00Z", "06:00:00Z")`, `true`},
		{`xacml.time_in_range("00:00:00Z", "22:00:00Z", "06:00:00Z")`, `true`},
		{`xacml.time_in_range("12:00:00Z", "22:00:00Z", "06:00:00Z")`, `false`},
		{`xacml.time_in_range("24:00:00Z", "22:00:00Z", "06:00:00Z")`, `true`},
		// Equal bounds: a single instant.
		{`xacml.time_in_range("09:00:00Z", "09:00:00Z", "09:00:00Z")`, `true`},
		{`xacml.time_in_range("09:00:01Z", "09:00:00Z", "09:00:00Z")`, `false`},
		// Time zones: v is 15:00Z.
		{`xacml.time_in_range("10:00:00-05:00", "09:00:00Z", "17:00:00Z")`, `true`},
		{`xacml.time_in_range("10:00:00-05:00", "09:00:00Z", "14:59:59Z")`, `false`},
		// Bounds without a zone take v's zone.
		{`xacml.time_in_range("10:00:00-05:00", "09:00:00", "11:00:00")`, `true`},
		{`xacml.time_in_range("10:00:00-05:00", "11:00:00", "12:00:00")`, `false`},
		// v without a zone takes the implicit one (UTC by default).
		{`xacml.time_in_range("10:00:00", "09:00:00Z", "11:00:00Z")`, `true`},
		{`xacml.time_in_range("10:00:00", "11:00:00+02:00", "11:59:59+02:00")`, `false`},
		// A range crossing midnight in UTC only.
		{`xacml.time_in_range("01:30:00+02:00", "23:00:00Z", "00:00:00Z")`, `true`},
		{`xacml.time_in_range("bad", "09:00:00Z", "17:00:00Z")`, undefined},
		{`xacml.time_in_range("10:00:00Z", "09:00Z", "17:00:00Z")`, undefined},
		{`xacml.time_in_range("10:00:00Z", "09:00:00Z", "2002-01-01T17:00:00Z")`, undefined},
	})
	plus2 := Options(WithImplicitTimezone(2 * time.Hour))
	runRegoCases(t, plus2, []regoCase{
		{`xacml.time_in_range("10:00:00", "07:00:00Z", "09:00:00Z")`, `true`},
		{`xacml.time_in_range("10:00:00", "09:00:00", "11:00:00")`, `true`},
	})
}
