package xacmlfn

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
)

func TestBagBuiltins(t *testing.T) {
	runRegoCases(t, Options(), []regoCase{
		{`xacml.is_in("string", "b", ["a", "b"])`, `true`},
		{`xacml.is_in("string", "c", ["a", "b"])`, `false`},
		{`xacml.is_in("string", "c", [])`, `false`},
		{`xacml.is_in("string", "a", ["a", 1])`, `true`},
		{`xacml.is_in("string", "c", ["a", 1])`, undefined},
		{`xacml.is_in("string", 1, ["a"])`, undefined},
		{`xacml.is_in("string", "a", json.unmarshal("\"a\""))`, undefined},
		{`xacml.is_in("string", "a", {"a"})`, `true`},
		{`xacml.is_in("dateTime", "2002-03-22T08:23:47-05:00", ["2002-03-22T13:23:47Z"])`, `true`},
		{`xacml.is_in("date", "2002-04-12", ["2002-03-22", "2002-04-12"])`, `true`},
		{`xacml.is_in("hexBinary", "0BF7A9876CAB", ["0bf7a9876cde", "0bf7a9876cab"])`, `true`},
		{`xacml.is_in("dayTimeDuration", "P1D", ["PT24H"])`, `true`},
		{`xacml.is_in("integer", 3, [1, 2, 3.0])`, `true`},

		{`xacml.intersection("string", ["a", "b", "a", "c"], ["c", "a", "d"])`, `["a", "c"]`},
		{`xacml.intersection("string", [], ["a"])`, `[]`},
		{`xacml.intersection("dateTime", ["2002-04-22T09:23:47-05:01", "2002-03-22T08:23:47-05:00"], ["2002-03-22T13:23:47Z", "2002-04-22T09:23:47-05:01", "2002-04-22T09:23:47-05:01"])`,
			`["2002-04-22T09:23:47-05:01", "2002-03-22T08:23:47-05:00"]`},
		{`xacml.intersection("hexBinary", ["0BF7A9876CAB", "0bf7a9876cab"], ["0BF7A9876CAB"])`, `["0BF7A9876CAB"]`},

		{`xacml.union("string", [["a", "b"], ["b", "c"], ["a", "d"]])`, `["a", "b", "c", "d"]`},
		{`xacml.union("string", [])`, `[]`},
		{`xacml.union("string", [{"b", "a"}, ["a", "c"]])`, `["a", "b", "c"]`},
		{`xacml.union("dateTime", [["garbage"]])`, undefined},
		{`xacml.union("dateTime", [["2002-03-22T13:23:47Z"], ["garbage"]])`, undefined},
		{`xacml.union("string", [[], []])`, `[]`},
		{`xacml.union("x500Name", [["  cn=Anne,OU=Sun Labs, o=Sun, c=US", "  cn=AHA,OU=Sun Labs, o=Sun,c=US"], ["cn=AHA,ou=Sun Labs,o=Sun,c=US"]])`,
			`["  cn=Anne,OU=Sun Labs, o=Sun, c=US", "  cn=AHA,OU=Sun Labs, o=Sun,c=US"]`},
		{`xacml.union("dayTimeDuration", [["P5DT2H0M0S", "P1DT8H24M"], ["P1DT8H24M", "PT32H24M"]])`, `["P5DT2H0M0S", "P1DT8H24M"]`},
		{`xacml.union("string", json.unmarshal("[\"a\"]"))`, undefined},
		{`xacml.union("string", json.unmarshal("\"a\""))`, undefined},

		{`xacml.subset("string", ["a", "a"], ["a", "b"])`, `true`},
		{`xacml.subset("string", [], [])`, `true`},
		{`xacml.subset("string", ["a", "c"], ["a", "b"])`, `false`},
		{`xacml.subset("double", [5.5, -5.55], [5.5, -5.55, -5.55])`, `true`},
		{`xacml.subset("base64Binary", ["aGVsbG8="], ["aGVs bG8=", "d29ybGQ="])`, `true`},

		{`xacml.set_equals("string", ["a", "b", "b"], ["b", "a"])`, `true`},
		{`xacml.set_equals("string", ["a"], ["a", "b"])`, `false`},
		{`xacml.set_equals("hexBinary", ["0BF7A9876CDE", "0BF7A9876CAB"], ["0bf7a9876cde", "0BF7A9876CAB", "0BF7A9876CAB"])`, `true`},
		{`xacml.set_equals("dateTime", ["2002-03-22T08:23:47-05:00"], ["2002-03-22T13:23:47Z"])`, `true`},

		{`xacml.at_least_one("string", ["x", "b"], ["a", "b"])`, `true`},
		{`xacml.at_least_one("string", ["x"], ["a", "b"])`, `false`},
		{`xacml.at_least_one("string", [], ["a"])`, `false`},
		{`xacml.at_least_one("yearMonthDuration", ["P1Y", "P5Y7M"], ["P12M"])`, `true`},
		{`xacml.at_least_one("integer", [1], ["1"])`, undefined},
	})
}

// TestSetsLargeBags crosses the size above which set functions index bags by
// canonical key, and checks that both strategies agree.
func TestSetsLargeBags(t *testing.T) {
	var a, b []string
	for i := range 40 {
		a = append(a, fmt.Sprintf(`"%02d:00:00Z"`, i%24))
		b = append(b, fmt.Sprintf(`"%02d:00:00.0-00:00"`, (i+3)%24))
	}
	bagA := "[" + strings.Join(a, ",") + "]"
	bagB := "[" + strings.Join(b, ",") + "]"
	opts := Options()
	// Both bags hold every hour of the day, written differently.
	got := evalRego(t, opts, `count(xacml.intersection("time", `+bagA+`, `+bagB+`))`)
	if got != wantJSON(t, `24`) {
		t.Errorf("intersection size = %v, want 24", got)
	}
	got = evalRego(t, opts, `count(xacml.union("time", [`+bagA+`, `+bagB+`]))`)
	if got != wantJSON(t, `24`) {
		t.Errorf("union size = %v, want 24", got)
	}
	got = evalRego(t, opts, `xacml.set_equals("time", `+bagA+`, `+bagB+`)`)
	if got != wantJSON(t, `true`) {
		t.Errorf("set_equals = %v, want true", got)
	}
	got = evalRego(t, opts, `xacml.subset("time", `+bagA+`, ["00:00:00Z"])`)
	if got != wantJSON(t, `false`) {
		t.Errorf("subset = %v, want false", got)
	}
	// A malformed value in an indexed bag is Indeterminate.
	bad := "[" + strings.Join(append(b[:39:39], `"25:00:00Z"`), ",") + "]"
	if got := evalRego(t, opts, `xacml.intersection("time", `+bagA+`, `+bad+`)`); got != undefined {
		t.Errorf("intersection with a bad value = %v, want undefined", got)
	}
}

// TestBuiltinDeclarationsTypeCheck shows that the declared signatures reach
// OPA's type checker: a call with a scalar where a bag is declared does not
// compile.
func TestBuiltinDeclarationsTypeCheck(t *testing.T) {
	for _, expr := range []string{
		`xacml.is_in("string", "a", "a")`,
		`xacml.union("string", ["a"])`,
		`xacml.idiv("1", 2)`,
		`xacml.date_add("dateTime", "dayTimeDuration", "2002-01-01T00:00:00Z", "P1D")`,
	} {
		module := "package t\n\nresult := " + expr + "\n"
		_, err := rego.New(append([]func(*rego.Rego){rego.Query("data.t.result"), rego.Module("t.rego", module)}, Options()...)...).
			PrepareForEval(context.Background())
		if err == nil || !strings.Contains(err.Error(), "rego_type_error") {
			t.Errorf("%s: err = %v, want a rego_type_error", expr, err)
		}
	}
}
