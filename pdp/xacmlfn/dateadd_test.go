package xacmlfn

import "testing"

func TestDateAddBuiltin(t *testing.T) {
	const (
		dt  = `"dateTime", "dayTimeDuration"`
		dym = `"dateTime", "yearMonthDuration"`
		d   = `"date", "yearMonthDuration"`
		ddt = `"date", "dayTimeDuration"`
	)
	runRegoCases(t, Options(), []regoCase{
		// Month arithmetic clamps the day to the end of the month.
		{`xacml.date_add(` + dym + `, "2004-01-31T10:00:00Z", "P1M", 1)`, `"2004-02-29T10:00:00Z"`},
		{`xacml.date_add(` + dym + `, "2003-01-31T10:00:00Z", "P1M", 1)`, `"2003-02-28T10:00:00Z"`},
		{`xacml.date_add(` + dym + `, "2004-02-29T00:00:00Z", "P1Y", 1)`, `"2005-02-28T00:00:00Z"`},
		{`xacml.date_add(` + dym + `, "2004-02-29T00:00:00Z", "P4Y", 1)`, `"2008-02-29T00:00:00Z"`},
		{`xacml.date_add(` + dym + `, "2000-03-31T00:00:00Z", "P1M", -1)`, `"2000-02-29T00:00:00Z"`},
		{`xacml.date_add(` + dym + `, "1900-03-31T00:00:00Z", "P1M", -1)`, `"1900-02-28T00:00:00Z"`},
		{`xacml.date_add(` + dym + `, "2000-01-15T00:00:00", "-P3M", 1)`, `"1999-10-15T00:00:00"`},
		{`xacml.date_add(` + dym + `, "2000-01-15T00:00:00", "P13M", 1)`, `"2001-02-15T00:00:00"`},
		{`xacml.date_add(` + dym + `, "2000-12-15T00:00:00", "P1M", 1)`, `"2001-01-15T00:00:00"`},
		// Conformance case IIC105: subtracting a negative duration adds it.
		{`xacml.date_add(` + dym + `, "2002-07-22T08:23:47-05:00", "-P4Y1M", -1)`, `"2006-08-22T08:23:47-05:00"`},
		// XML Schema Appendix E example, in two steps.
		{`xacml.date_add(` + dym + `, "2000-01-12T12:13:14Z", "P1Y3M", 1)`, `"2001-04-12T12:13:14Z"`},
		{`xacml.date_add(` + dt + `, "2001-04-12T12:13:14Z", "P5DT7H10M3.3S", 1)`, `"2001-04-17T19:23:17.3Z"`},
		{`xacml.date_add(` + dt + `, "2000-01-12T00:00:00Z", "PT33H", 1)`, `"2000-01-13T09:00:00Z"`},
		// Day arithmetic across month, year and leap-day boundaries.
		{`xacml.date_add(` + dt + `, "2004-02-28T12:00:00", "P1D", 1)`, `"2004-02-29T12:00:00"`},
		{`xacml.date_add(` + dt + `, "2003-02-28T12:00:00", "P1D", 1)`, `"2003-03-01T12:00:00"`},
		{`xacml.date_add(` + dt + `, "2000-03-01T00:00:00Z", "P1D", -1)`, `"2000-02-29T00:00:00Z"`},
		{`xacml.date_add(` + dt + `, "2002-12-31T23:30:00+05:00", "PT1H", 1)`, `"2003-01-01T00:30:00+05:00"`},
		{`xacml.date_add(` + dt + `, "2002-03-22T08:00:00-05:00", "-PT9H", 1)`, `"2002-03-21T23:00:00-05:00"`},
		{`xacml.date_add(` + dt + `, "2002-03-22T08:00:00-05:00", "-PT9H", -1)`, `"2002-03-22T17:00:00-05:00"`},
		{`xacml.date_add(` + dt + `, "2000-01-01T00:00:00Z", "-PT0.5S", 1)`, `"1999-12-31T23:59:59.5Z"`},
		{`xacml.date_add(` + dt + `, "2002-03-22T10:00:00.75Z", "PT0.5S", 1)`, `"2002-03-22T10:00:01.25Z"`},
		{`xacml.date_add(` + dt + `, "2002-03-22T10:00:00.1234567891Z", "PT1S", 1)`, `"2002-03-22T10:00:01.1234567891Z"`},
		{`xacml.date_add(` + dt + `, "2002-03-22T24:00:00Z", "PT0S", 1)`, `"2002-03-23T00:00:00Z"`},
		{`xacml.date_add(` + dt + `, "2002-03-22T10:00:00+00:00", "PT1H", 1)`, `"2002-03-22T11:00:00+00:00"`},
		{`xacml.date_add(` + dt + `, "2002-03-22T10:00:00", "P36500D", 1)`, `"2102-02-26T10:00:00"`},
		// Across year zero, which XML Schema 1.0 does not have.
		{`xacml.date_add(` + dt + `, "0001-01-01T00:00:00Z", "P1D", -1)`, `"-0001-12-31T00:00:00Z"`},
		{`xacml.date_add(` + dym + `, "-0001-12-31T00:00:00Z", "P1M", 1)`, `"0001-01-31T00:00:00Z"`},
		{`xacml.date_add(` + dym + `, "12345-06-30T00:00:00Z", "P1Y", 1)`, `"12346-06-30T00:00:00Z"`},
		// Dates.
		{`xacml.date_add(` + d + `, "2004-01-31", "P1M", 1)`, `"2004-02-29"`},
		{`xacml.date_add(` + d + `, "2004-01-31-05:00", "P1M", 1)`, `"2004-02-29-05:00"`},
		{`xacml.date_add(` + d + `, "2004-03-31Z", "P1M", -1)`, `"2004-02-29Z"`},
		{`xacml.date_add(` + ddt + `, "2004-02-28", "P1D", 1)`, `"2004-02-29"`},
		{`xacml.date_add(` + ddt + `, "2004-02-28", "PT12H", 1)`, `"2004-02-28"`},
		{`xacml.date_add(` + ddt + `, "2004-02-28", "PT12H", -1)`, `"2004-02-27"`},
		// Errors.
		{`xacml.date_add(` + dt + `, "2002-03-22T10:00:00Z", "PT1H", 2)`, undefined},
		{`xacml.date_add(` + dt + `, "2002-03-22T10:00:00Z", "PT1H", 0)`, undefined},
		{`xacml.date_add(` + dt + `, "2002-03-22T10:00:00Z", "P1M", 1)`, undefined},
		{`xacml.date_add(` + dt + `, "2002-03-22", "PT1H", 1)`, undefined},
		{`xacml.date_add(` + dt + `, "2002-03-22T10:00:00Z", "PT0.0000000001S", 1)`, undefined},
		{`xacml.date_add("time", "dayTimeDuration", "10:00:00", "PT1H", 1)`, undefined},
		{`xacml.date_add("dateTime", "string", "2002-03-22T10:00:00Z", "PT1H", 1)`, undefined},
		{`xacml.date_add(` + dym + `, "999999999-12-31T00:00:00Z", "P1Y", 1)`, undefined},
	})
}
