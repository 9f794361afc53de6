package xacmlfn

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/rego"
)

// undefined marks a case whose builtin call must fail, which OPA without
// strict builtin errors turns into an undefined rule: XACML Indeterminate.
type undefinedResult struct{}

var undefined = undefinedResult{}

// regoCase is one builtin call written as Rego and the JSON value it must
// produce (decoded with UseNumber), or undefined.
type regoCase struct {
	expr string
	want any
}

// evalRego compiles a module whose rule calls the builtin, prepares it as
// the engine does and evaluates it. It returns the rule's value, or
// undefined when the rule is undefined.
func evalRego(t testing.TB, opts []func(*rego.Rego), expr string) any {
	t.Helper()
	module := "package t\n\nresult := " + expr + "\n"
	args := append([]func(*rego.Rego){
		rego.Query("data.t.result"),
		rego.Module("t.rego", module),
	}, opts...)
	pq, err := rego.New(args...).PrepareForEval(context.Background())
	if err != nil {
		t.Fatalf("prepare %s: %v", expr, err)
	}
	rs, err := pq.Eval(context.Background())
	if err != nil {
		t.Fatalf("eval %s: %v", expr, err)
	}
	if len(rs) == 0 {
		return undefined
	}
	return normalizeJSON(t, rs[0].Expressions[0].Value)
}

// normalizeJSON round-trips a result through JSON so that numbers compare as
// json.Number text and the expectations can be written as literals.
func normalizeJSON(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantJSON decodes an expectation written as JSON text.
func wantJSON(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("bad expectation %s: %v", s, err)
	}
	return out
}

// runRegoCases evaluates each case with one set of builtins. Expectations
// are JSON text (e.g. `true`, `"2004-02-29"`, `[1,2]`) or undefined.
func runRegoCases(t *testing.T, opts []func(*rego.Rego), cases []regoCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			got := evalRego(t, opts, c.expr)
			want := c.want
			if s, ok := want.(string); ok {
				want = wantJSON(t, s)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, want %#v", c.expr, got, want)
			}
		})
	}
}

func TestDoubleArithmeticBuiltins(t *testing.T) {
	opts := Options()
	for _, c := range []regoCase{
		{`xacml.darith("add", 1.5, 2.25)`, wantJSON(t, `3.75`)},
		{`xacml.darith("add", "NaN", 1.0)`, "NaN"},
		{`xacml.darith("subtract", "INF", 1)`, "INF"},
		{`xacml.darith("multiply", -2, "INF")`, "-INF"},
		{`xacml.darith("divide", 1, 4)`, wantJSON(t, `0.25`)},
		{`xacml.dunary("abs", -2.5)`, wantJSON(t, `2.5`)},
		{`xacml.dunary("floor", -2.5)`, wantJSON(t, `-3`)},
		{`xacml.dunary("abs", "-INF")`, "INF"},
		{`xacml.darith("divide", 1, 0)`, undefined},
		{`xacml.darith("pow", 1, 2)`, undefined},
		{`xacml.dunary("abs", "x")`, undefined},
	} {
		if got := evalRego(t, opts, c.expr); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.expr, got, c.want)
		}
	}
}
