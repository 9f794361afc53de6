package xacmlfn

import (
	"errors"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestValue(t *testing.T) {
	cases := []struct {
		typ, lexical string
		want         ast.Value // nil: must fail with ErrSyntax
	}{
		{"string", "  keeps spaces ", ast.String("  keeps spaces ")},
		{"string", "", ast.String("")},
		{"boolean", "true", ast.Boolean(true)},
		{"boolean", "1", ast.Boolean(true)},
		{"boolean", " false ", ast.Boolean(false)},
		{"boolean", "0", ast.Boolean(false)},
		{"boolean", "TRUE", nil},
		{"boolean", "yes", nil},
		{"integer", "+007", ast.Number("7")},
		{"integer", "-0", ast.Number("0")},
		{"integer", "000", ast.Number("0")},
		{"integer", "-012", ast.Number("-12")},
		{"integer", "45", ast.Number("45")},
		{"integer", "123456789012345678901234567890", ast.Number("123456789012345678901234567890")},
		{"integer", "1.0", nil},
		{"integer", "1e3", nil},
		{"integer", "", nil},
		{"integer", "+", nil},
		{"integer", "1 2", nil},
		{"double", "27.50", ast.Number("27.50")},
		{"double", ".5", ast.Number("0.5")},
		{"double", "-.5", ast.Number("-0.5")},
		{"double", "5.", ast.Number("5.0")},
		{"double", "+1.5", ast.Number("1.5")},
		{"double", "007.5", ast.Number("7.5")},
		{"double", "1E3", ast.Number("1E3")},
		{"double", "1e-3", ast.Number("1e-3")},
		{"double", "1.e3", ast.Number("1.0e3")},
		{"double", "-0", ast.Number("-0")},
		{"double", "1E400", ast.String("INF")},
		{"double", "-1E400", ast.String("-INF")},
		{"double", "INF", ast.String("INF")},
		{"double", "+INF", ast.String("INF")},
		{"double", "-INF", ast.String("-INF")},
		{"double", "NaN", ast.String("NaN")},
		{"double", "nan", nil},
		{"double", "Infinity", nil},
		{"double", ".", nil},
		{"double", "1e", nil},
		{"double", "0x10", nil},
		{"double", "1_000", nil},
		{"dateTime", " 2002-03-22T08:23:47-05:00\n", ast.String("2002-03-22T08:23:47-05:00")},
		{"dateTime", "2002-03-22T08:23:47", ast.String("2002-03-22T08:23:47")},
		{"dateTime", "-0044-03-15T12:00:00Z", ast.String("-0044-03-15T12:00:00Z")},
		{"dateTime", "0000-01-01T00:00:00Z", nil},
		{"dateTime", "02002-01-01T00:00:00Z", nil},
		{"dateTime", "202-01-01T00:00:00Z", nil},
		{"dateTime", "2002-13-01T00:00:00Z", nil},
		{"dateTime", "2002-01-01T00:60:00Z", nil},
		{"dateTime", "2002-01-01T00:00:60Z", nil},
		{"dateTime", "2002-01-01T00:00:00+14:01", nil},
		{"dateTime", "2002-01-01T00:00:00+15:00", nil},
		{"dateTime", "2002-01-01T00:00:00.Z", nil},
		{"dateTime", "2002-01-01 00:00:00Z", nil},
		{"dateTime", "2002-01-01T00:00:00z", nil},
		{"date", "2002-03-22-05:00", ast.String("2002-03-22-05:00")},
		{"date", "2002-3-22", nil},
		{"date", "-0001-02-29", ast.String("-0001-02-29")}, // 1 BCE is a leap year
		{"date", "-0002-02-29", nil},
		{"date", "-0005-02-29Z", ast.String("-0005-02-29Z")},
		{"time", "24:00:00", ast.String("24:00:00")},
		{"time", "24:00:00.5", nil},
		{"time", "25:00:00", nil},
		{"dayTimeDuration", "P1DT2H3M4.5S", ast.String("P1DT2H3M4.5S")},
		{"dayTimeDuration", "-PT0.5S", ast.String("-PT0.5S")},
		{"dayTimeDuration", "PT.5S", ast.String("PT.5S")},
		{"dayTimeDuration", "P", nil},
		{"dayTimeDuration", "PT", nil},
		{"dayTimeDuration", "P1DT", nil},
		{"dayTimeDuration", "PT1M1H", nil},
		{"dayTimeDuration", "PT1.5M", nil},
		{"dayTimeDuration", "P1M", nil},
		{"dayTimeDuration", "1D", nil},
		{"yearMonthDuration", "P1Y2M", ast.String("P1Y2M")},
		{"yearMonthDuration", "-P5M", ast.String("-P5M")},
		{"yearMonthDuration", "P2M1Y", nil},
		{"yearMonthDuration", "P1Y2M3D", nil},
		{"anyURI", " http://example.com/a b ", ast.String("http://example.com/a b")},
		{"anyURI", "", ast.String("")},
		{"anyURI", "urn:oasis:names:tc:xacml:1.0:action:action-id", ast.String("urn:oasis:names:tc:xacml:1.0:action:action-id")},
		{"anyURI", "http://a/%zz", nil},
		{"anyURI", "a#b#c", nil},
		{"anyURI", "1http:x", nil},
		{"hexBinary", "0bf7", ast.String("0bf7")},
		{"hexBinary", "0bf", nil},
		{"hexBinary", "0g", nil},
		{"base64Binary", "aGVs bG8=", ast.String("aGVs bG8=")},
		{"base64Binary", "aGVsbG8", nil},
		{"x500Name", "  cn=Anne,OU=Sun Labs, o=Sun, c=US", ast.String("cn=Anne,OU=Sun Labs, o=Sun, c=US")},
		{"x500Name", "", ast.String("")},
		{"x500Name", "cn=a,", nil},
		{"x500Name", "=a", nil},
		{"x500Name", "cn=a\\", nil},
		{"rfc822Name", "Anderson@sun.com", ast.String("Anderson@sun.com")},
		{"rfc822Name", "sun.com", nil},
		{"rfc822Name", "a@", nil},
		{"rfc822Name", "a b@sun.com", nil},
		{"rfc822Name", "a@sun..com", nil},
		{"ipAddress", "10.1.2.3", ast.String("10.1.2.3")},
		{"ipAddress", "10.1.2.3/255.255.255.0:80-443", ast.String("10.1.2.3/255.255.255.0:80-443")},
		{"ipAddress", "[2001:db8::1]/[ffff:ffff::]:-1024", ast.String("[2001:db8::1]/[ffff:ffff::]:-1024")},
		{"ipAddress", "10.1.2.3:8080-", ast.String("10.1.2.3:8080-")},
		{"ipAddress", "2001:db8::1", nil},
		{"ipAddress", "[10.1.2.3]", nil},
		{"ipAddress", "10.1.2.3:70000", nil},
		{"ipAddress", "10.1.2.3:", nil},
		{"dnsName", "*.example.com:443", ast.String("*.example.com:443")},
		{"dnsName", "example.com", ast.String("example.com")},
		{"dnsName", "exa mple.com", nil},
		{"dnsName", "example.com:x", nil},
	}
	for _, c := range cases {
		got, err := Value(c.typ, c.lexical)
		if c.want == nil {
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("Value(%s, %q) = %v, %v; want ErrSyntax", c.typ, c.lexical, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Value(%s, %q): %v", c.typ, c.lexical, err)
			continue
		}
		if ast.Compare(got, c.want) != 0 || ast.ValueName(got) != ast.ValueName(c.want) {
			t.Errorf("Value(%s, %q) = %v (%s), want %v (%s)", c.typ, c.lexical, got, ast.ValueName(got), c.want, ast.ValueName(c.want))
		}
		// Every accepted value prints back, and the printed form is
		// accepted again as the same value.
		lex, err := Lexical(c.typ, got)
		if err != nil {
			t.Errorf("Lexical(%s, %v): %v", c.typ, got, err)
			continue
		}
		again, err := Value(c.typ, lex)
		if err != nil || ast.Compare(again, got) != 0 {
			t.Errorf("Value(%s, Lexical(%v)=%q) = %v, %v", c.typ, got, lex, again, err)
		}
	}
}

func TestValueErrorsNameTypeAndValue(t *testing.T) {
	_, err := Value("dateTime", "yesterday")
	if err == nil || !errors.Is(err, ErrSyntax) {
		t.Fatalf("err = %v, want ErrSyntax", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "dateTime") || !strings.Contains(msg, "yesterday") {
		t.Errorf("error %q does not name the type and the value", msg)
	}
	if _, err := Value("datetime", "2002-01-01T00:00:00Z"); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown type: err = %v, want ErrUnknownType", err)
	}
}

func TestLexical(t *testing.T) {
	cases := []struct {
		typ  string
		v    ast.Value
		want string // "" with wantErr
		err  error
	}{
		{"double", ast.Number("27.50"), "27.50", nil},
		{"double", ast.Number("1E3"), "1E3", nil},
		{"double", ast.String("-INF"), "-INF", nil},
		{"double", ast.String("inf"), "", ErrType},
		{"integer", ast.Number("7"), "7", nil},
		{"integer", ast.Number("7.0"), "7", nil},
		{"integer", ast.Number("1e3"), "1000", nil},
		{"integer", ast.Number("7.5"), "", ErrType},
		{"integer", ast.String("7"), "", ErrType},
		{"boolean", ast.Boolean(false), "false", nil},
		{"boolean", ast.String("false"), "", ErrType},
		{"string", ast.String(" x "), " x ", nil},
		{"dateTime", ast.String("2002-03-22T08:23:47-05:00"), "2002-03-22T08:23:47-05:00", nil},
		{"dateTime", ast.String("2002-03-22"), "", ErrSyntax},
		{"anyURI", ast.Number("1"), "", ErrType},
		{"nosuch", ast.String("x"), "", ErrUnknownType},
	}
	for _, c := range cases {
		got, err := Lexical(c.typ, c.v)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("Lexical(%s, %v) = %q, %v; want %v", c.typ, c.v, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Lexical(%s, %v) = %q, %v; want %q", c.typ, c.v, got, err, c.want)
		}
	}
}

func TestShortTypeAndTypeURI(t *testing.T) {
	for _, short := range []string{
		"string", "boolean", "integer", "double", "time", "date", "dateTime", "anyURI",
		"hexBinary", "base64Binary", "dayTimeDuration", "yearMonthDuration", "x500Name",
		"rfc822Name", "ipAddress", "dnsName",
	} {
		uri := TypeURI(short)
		if uri == "" {
			t.Errorf("TypeURI(%s) is empty", short)
			continue
		}
		if got, ok := ShortType(uri); !ok || got != short {
			t.Errorf("ShortType(TypeURI(%s)=%s) = %q, %v", short, uri, got, ok)
		}
	}
	for uri, want := range map[string]string{
		"http://www.w3.org/2001/XMLSchema#dateTime":                                "dateTime",
		"urn:oasis:names:tc:xacml:1.0:data-type:x500Name":                          "x500Name",
		"urn:oasis:names:tc:xacml:2.0:data-type:dnsName":                           "dnsName",
		"http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration":   "dayTimeDuration",
		"http://www.w3.org/TR/2002/WD-xquery-operators-20020816#yearMonthDuration": "yearMonthDuration",
		"urn:oasis:names:tc:xacml:3.0:data-type:xpathExpression":                   "",
		"http://www.w3.org/2001/XMLSchema#float":                                   "",
		"string":                                                                   "",
	} {
		got, ok := ShortType(uri)
		if got != want || ok != (want != "") {
			t.Errorf("ShortType(%s) = %q, %v; want %q", uri, got, ok, want)
		}
	}
	if got := TypeURI("float"); got != "" {
		t.Errorf("TypeURI(float) = %q, want empty", got)
	}
	if got := TypeURI("dayTimeDuration"); got != "http://www.w3.org/2001/XMLSchema#dayTimeDuration" {
		t.Errorf("TypeURI(dayTimeDuration) = %q", got)
	}
}
