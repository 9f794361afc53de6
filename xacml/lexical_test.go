package xacml

import "testing"

func TestCheckLexical(t *testing.T) {
	cases := []struct {
		typ  string
		good []string
		bad  []string
	}{
		{TypeBoolean, []string{"true", "false", "1", "0"}, []string{"True", "yes", "", " true"}},
		{TypeInteger, []string{"0", "-5", "+42", "007", "123456789012345678901234567890"}, []string{"", "+", "1.0", "1e3", "0x1F", "1_000"}},
		{TypeDouble, []string{"27.50", "-1", "1.", ".5", "1e10", "1.5E-3", "INF", "-INF", "+INF", "NaN"}, []string{"", ".", "e5", "1e", "inf", "nan", "1.2.3", "--1"}},
		{TypeDate, []string{"2002-03-22", "2000-02-29", "-0044-03-15", "12345-01-01", "2002-03-22Z", "2002-03-22-05:00", "2002-03-22+14:00"}, []string{"2002-3-22", "1900-02-29", "2002-13-01", "2002-00-10", "02002-01-01", "2002-03-22+15:00", "2002-03-22T00:00:00"}},
		{TypeTime, []string{"08:23:47-05:00", "23:59:59", "24:00:00", "08:23:47.123Z"}, []string{"24:00:01", "8:23:47", "08:60:00", "08:23:47.", "08:23"}},
		{TypeDateTime, []string{"2002-03-22T08:23:47-05:00", "2002-03-22T08:23:47", "2002-03-22T08:23:47.5Z"}, []string{"2002-03-22", "2002-03-22 08:23:47", "2002-03-22T08:23"}},
		{TypeDayTimeDuration, []string{"P50DT5H4M3S", "-P1D", "PT1.5S", "PT0S", "P1DT2H"}, []string{"P", "PT", "P1Y", "P1DT", "P1M", "PT1.5M", "1D"}},
		{TypeYearMonthDuration, []string{"-P5Y3M", "P1Y", "P13M"}, []string{"P", "P1D", "P1.5Y", "P1YT1H"}},
		{TypeAnyURI, []string{"http://medico.com/record/patient/BartSimpson", "urn:x", "relative/path", ""}, []string{"a\x01b"}},
		{TypeHexBinary, []string{"0BF7A9876CDE", "", "ab"}, []string{"ABC", "0G"}},
		{TypeBase64Binary, []string{"c3VyZS4=", "", "c3Vy ZS4="}, []string{"c3VyZS4", "!!!!", "c3Vy\nZS4="}},
		{TypeRFC822Name, []string{"j_hibbert@MEDICO.COM", "a.b+c@sub.example.org"}, []string{"nobody", "@example.com", "a@", "a b@example.com", "a@exa mple.com", "a@example..com"}},
		{TypeX500Name, []string{"cn=Julius Hibbert, o=Medi Corporation, c=US", "CN=Steve Kille,O=Isode Limited,C=GB", "OU=Sales+CN=J. Smith,O=Widget Inc.,C=US", `CN=L. Eagle,O=Sue\, Grabbit and Runn,C=GB`, "1.3.6.1.4.1.1466.0=#04024869,O=Test", `CN="quoted, value"`, ""}, []string{"cn", "=x", "cn=a=b", "cn=x,", "cn=#0", `cn=a\`}},
		{TypeIPAddress, []string{"122.45.38.245/255.255.255.64:8080", "10.0.0.1", "10.0.0.1:80-90", "10.0.0.1:-90", "10.0.0.1:80-", "[2001:db8::1]", "[2001:db8::1]/[ffff:ffff::]:443", "[::1]/[64]"}, []string{"300.1.1.1", "10.0.0", "10.0.0.1/33", "10.0.0.1:99999", "10.0.0.1:90-80", "2001:db8::1", "[10.0.0.1]", "[::1]/[129]"}},
		{TypeDNSName, []string{"some.host.name:147-874", "localhost", "*.example.com", "example.com.", "a-b.example.com:80"}, []string{"", "-bad.com", "bad-.com", "a..b", "1.2.3.4", "*", "ex ample.com", "host:", "host:x"}},
		{TypeString, []string{"", "   anything  "}, nil},
	}
	for _, c := range cases {
		for _, v := range c.good {
			if err := CheckLexical(c.typ, v); err != nil {
				t.Errorf("%s %q rejected: %v", ShortTypeName(c.typ), v, err)
			}
		}
		for _, v := range c.bad {
			if err := CheckLexical(c.typ, v); err == nil {
				t.Errorf("%s %q accepted", ShortTypeName(c.typ), v)
			}
		}
	}
	if err := CheckLexical("urn:example:unknown", "x"); err == nil {
		t.Error("unknown type accepted")
	}
}

func TestNormalizeValue(t *testing.T) {
	cases := []struct{ typ, in, want string }{
		{TypeString, "  Julius  \n", "  Julius  \n"},
		{TypeInteger, "\n  42 \t", "42"},
		{TypeAnyURI, " http://a/b  c ", "http://a/b c"},
		{TypeBase64Binary, " c3Vy\n  ZS4= ", "c3Vy ZS4="},
		{TypeX500Name, "  cn=a,  o=b  ", "cn=a,  o=b"},
		{"urn:example:unknown", " x ", " x "},
	}
	for _, c := range cases {
		if got := NormalizeValue(c.typ, c.in); got != c.want {
			t.Errorf("NormalizeValue(%s, %q) = %q, want %q", ShortTypeName(c.typ), c.in, got, c.want)
		}
	}
}
