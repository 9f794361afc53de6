package xacmlfn

import "testing"

func TestFromStringBuiltin(t *testing.T) {
	runRegoCases(t, Options(), []regoCase{
		{`xacml.from_string("integer", "+007")`, `7`},
		{`xacml.from_string("integer", " 12 ")`, `12`},
		{`xacml.from_string("integer", "1.5")`, undefined},
		{`xacml.from_string("integer", "twelve")`, undefined},
		{`xacml.from_string("boolean", "1")`, `true`},
		{`xacml.from_string("boolean", "0")`, `false`},
		{`xacml.from_string("boolean", "true")`, `true`},
		{`xacml.from_string("boolean", "True")`, undefined},
		{`xacml.from_string("double", ".5")`, `0.5`},
		{`xacml.from_string("double", "27.50")`, `27.50`},
		{`xacml.from_string("double", "-INF")`, `"-INF"`},
		{`xacml.from_string("double", "NaN")`, `"NaN"`},
		{`xacml.from_string("double", "abc")`, undefined},
		{`xacml.from_string("string", " as is ")`, `" as is "`},
		{`xacml.from_string("dateTime", "2002-03-22T08:23:47-05:00")`, `"2002-03-22T08:23:47-05:00"`},
		{`xacml.from_string("dateTime", "2002-03-22")`, undefined},
		{`xacml.from_string("date", "2002-03-22")`, `"2002-03-22"`},
		{`xacml.from_string("time", "08:23:47")`, `"08:23:47"`},
		{`xacml.from_string("dayTimeDuration", "P1DT2H")`, `"P1DT2H"`},
		{`xacml.from_string("yearMonthDuration", "P1DT2H")`, undefined},
		{`xacml.from_string("anyURI", "http://example.com/")`, `"http://example.com/"`},
		{`xacml.from_string("x500Name", "cn=Anne,o=Sun")`, `"cn=Anne,o=Sun"`},
		{`xacml.from_string("rfc822Name", "anne@sun.com")`, `"anne@sun.com"`},
		{`xacml.from_string("rfc822Name", "anne")`, undefined},
		{`xacml.from_string("ipAddress", "10.0.0.1/255.0.0.0")`, `"10.0.0.1/255.0.0.0"`},
		{`xacml.from_string("dnsName", "*.example.com")`, `"*.example.com"`},
		{`xacml.from_string("hexBinary", "0A0B")`, `"0A0B"`},
		{`xacml.from_string("base64Binary", "AAAA")`, `"AAAA"`},
		{`xacml.from_string("float", "1")`, undefined},
		{`xacml.from_string("integer", json.unmarshal("1"))`, undefined},
	})
}

func TestToStringBuiltin(t *testing.T) {
	runRegoCases(t, Options(), []regoCase{
		{`xacml.to_string("boolean", true)`, `"true"`},
		{`xacml.to_string("boolean", false)`, `"false"`},
		{`xacml.to_string("integer", 7)`, `"7"`},
		{`xacml.to_string("integer", -12)`, `"-12"`},
		{`xacml.to_string("integer", 7.0)`, `"7"`},
		{`xacml.to_string("integer", 7.5)`, undefined},
		{`xacml.to_string("double", 27.50)`, `"2.75E1"`},
		{`xacml.to_string("double", 100)`, `"1.0E2"`},
		{`xacml.to_string("double", 0)`, `"0.0E0"`},
		{`xacml.to_string("double", "INF")`, `"INF"`},
		{`xacml.to_string("double", "NaN")`, `"NaN"`},
		{`xacml.to_string("string", "x")`, `"x"`},
		// The other types print in the form they were written.
		{`xacml.to_string("dateTime", "2002-03-22T08:23:47-05:00")`, `"2002-03-22T08:23:47-05:00"`},
		{`xacml.to_string("dayTimeDuration", "PT36H")`, `"PT36H"`},
		{`xacml.to_string("x500Name", "cn=Anne, o=Sun")`, `"cn=Anne, o=Sun"`},
		{`xacml.to_string("anyURI", "http://a/b")`, `"http://a/b"`},
		{`xacml.to_string("dateTime", "not a date")`, undefined},
		{`xacml.to_string("boolean", "true")`, undefined},
	})
}

func TestSubstringBuiltin(t *testing.T) {
	runRegoCases(t, Options(), []regoCase{
		// Conformance cases IIC330 and IIC334.
		{`xacml.substring("This is the initial test string.", 8, 15)`, `"the ini"`},
		{`xacml.substring("http://this/is/the/initial/uri", 14, -1)`, `"/the/initial/uri"`},
		{`xacml.substring("abc", 0, 0)`, `""`},
		{`xacml.substring("abc", 0, 3)`, `"abc"`},
		{`xacml.substring("abc", 3, -1)`, `""`},
		{`xacml.substring("abc", 3, 3)`, `""`},
		// Characters are code points, not bytes.
		{`xacml.substring("héllo wörld", 1, 4)`, `"éll"`},
		{`xacml.substring("héllo wörld", 7, -1)`, `"örld"`},
		{`xacml.substring("日本語テキスト", 2, 5)`, `"語テキ"`},
		{`xacml.substring("日本語", 3, -1)`, `""`},
		{`xacml.substring("abc", -1, 2)`, undefined},
		{`xacml.substring("abc", 4, -1)`, undefined},
		{`xacml.substring("abc", 0, 4)`, undefined},
		{`xacml.substring("abc", 2, 1)`, undefined},
		{`xacml.substring("abc", 0, -2)`, undefined},
		{`xacml.substring("日本語", 0, 4)`, undefined},
		{`xacml.substring("abc", 0.5, 2)`, undefined},
		{`xacml.substring("abc", 0, 99999999999999999999)`, undefined},
	})
}
