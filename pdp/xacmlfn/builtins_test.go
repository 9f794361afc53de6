package xacmlfn

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// allBuiltinNames is the contract with the compiler.
var allBuiltinNames = []string{
	"xacml.eq", "xacml.cmp", "xacml.is_in", "xacml.intersection", "xacml.union",
	"xacml.subset", "xacml.set_equals", "xacml.at_least_one", "xacml.idiv",
	"xacml.imod", "xacml.round", "xacml.to_integer", "xacml.from_string",
	"xacml.to_string", "xacml.substring", "xacml.time_in_range", "xacml.date_add",
	"xacml.regexp_match", "xacml.x500_match", "xacml.rfc822_match",
	"xacml.darith", "xacml.dunary",
}

func TestDeclarations(t *testing.T) {
	decls := Declarations()
	arity := map[string]int{}
	for _, b := range decls {
		if b.Nondeterministic {
			t.Errorf("%s is declared non-deterministic", b.Name)
		}
		arity[b.Name] = len(b.Decl.FuncArgs().Args)
	}
	for _, name := range allBuiltinNames {
		if _, ok := arity[name]; !ok {
			t.Errorf("%s is not declared", name)
		}
	}
	if len(decls) != len(allBuiltinNames) || len(Options()) != len(allBuiltinNames) {
		t.Errorf("%d declarations and %d options for %d builtins", len(decls), len(Options()), len(allBuiltinNames))
	}
	for name, want := range map[string]int{
		"xacml.eq": 3, "xacml.union": 2, "xacml.idiv": 2, "xacml.round": 1,
		"xacml.date_add": 5, "xacml.time_in_range": 3, "xacml.regexp_match": 3,
	} {
		if arity[name] != want {
			t.Errorf("%s takes %d arguments, want %d", name, arity[name], want)
		}
	}

	// The declarations let a compiler outside rego.New check modules that
	// call the builtins, through capabilities; without them the call is an
	// unknown function.
	modules := map[string]string{"p.rego": "package p\n\nallow if xacml.eq(\"string\", input.a, \"x\")\n"}
	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = append(caps.Builtins, decls...)
	if _, err := ast.CompileModulesWithOpt(modules, ast.CompileOpts{ParserOptions: ast.ParserOptions{Capabilities: caps}}); err != nil {
		t.Errorf("compile with declarations: %v", err)
	}
	if _, err := ast.CompileModulesWithOpt(modules, ast.CompileOpts{}); err == nil {
		t.Error("compile without declarations succeeded; the test proves nothing")
	}
}

// TestBuiltinErrorsAreErrors shows that an undefined result comes from a
// builtin error (which OPA reports when asked to be strict), not from a
// builtin quietly producing nothing.
func TestBuiltinErrorsAreErrors(t *testing.T) {
	for expr, want := range map[string]string{
		`xacml.idiv(1, 0)`: "xacml.idiv: argument out of range",
		`xacml.eq("dateTime", "2002-13-01T00:00:00Z", "")`: "invalid lexical form",
		`xacml.regexp_match("string", "(a)\\1", "aa")`:     "not supported",
		`xacml.eq("integer", 1, "1")`:                      "value does not match its data type",
	} {
		args := append([]func(*rego.Rego){
			rego.Query("data.t.result"),
			rego.Module("t.rego", "package t\n\nresult := "+expr+"\n"),
			rego.StrictBuiltinErrors(true),
		}, Options()...)
		pq, err := rego.New(args...).PrepareForEval(context.Background())
		if err != nil {
			t.Fatalf("prepare %s: %v", expr, err)
		}
		_, err = pq.Eval(context.Background())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want one containing %q", expr, err, want)
		}
	}
}

func TestOptionsAreIndependent(t *testing.T) {
	utc := Options()
	east := Options(WithImplicitTimezone(5*time.Hour + 30*time.Minute))
	west := Options(WithImplicitTimezone(-8 * time.Hour))
	const expr = `xacml.eq("dateTime", "2002-03-22T12:00:00", "2002-03-22T12:00:00Z")`
	if got := evalRego(t, utc, expr); got != true {
		t.Errorf("UTC: %v", got)
	}
	if got := evalRego(t, east, expr); got != false {
		t.Errorf("+05:30: %v", got)
	}
	if got := evalRego(t, east, `xacml.eq("dateTime", "2002-03-22T12:00:00", "2002-03-22T06:30:00Z")`); got != true {
		t.Errorf("+05:30 shifted: %v", got)
	}
	if got := evalRego(t, west, `xacml.eq("dateTime", "2002-03-22T12:00:00", "2002-03-22T20:00:00Z")`); got != true {
		t.Errorf("-08:00 shifted: %v", got)
	}
}

func TestInvalidImplicitTimezonePanics(t *testing.T) {
	for _, tz := range []time.Duration{15 * time.Hour, -15 * time.Hour, 90 * time.Second} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Options(WithImplicitTimezone(%v)) did not panic", tz)
				}
			}()
			Options(WithImplicitTimezone(tz))
		}()
	}
}

// TestPreparedQueryConcurrent evaluates one prepared query from many
// goroutines, as the engine does, with the race detector watching the shared
// regular expression cache.
func TestPreparedQueryConcurrent(t *testing.T) {
	module := `package t

allow if {
	xacml.regexp_match("string", input.pattern, input.name)
	xacml.is_in("dateTime", input.when, ["2002-03-22T13:23:47Z", "2002-03-22T14:00:00Z"])
	xacml.cmp("integer", input.n, 10) < 0
}
`
	args := append([]func(*rego.Rego){
		rego.Query("data.t.allow"),
		rego.Module("t.rego", module),
	}, Options(WithRegexpCacheSize(4))...)
	pq, err := rego.New(args...).PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				input := map[string]any{
					"pattern": fmt.Sprintf("^user%d", (g+i)%6),
					"name":    fmt.Sprintf("user%d-x", (g+i)%6),
					"when":    "2002-03-22T08:23:47-05:00",
					"n":       i % 12,
				}
				rs, err := pq.Eval(context.Background(), rego.EvalInput(input))
				if err != nil {
					t.Error(err)
					return
				}
				allowed := len(rs) == 1 && rs[0].Expressions[0].Value == true
				if want := i%12 < 10; allowed != want {
					t.Errorf("goroutine %d, i %d: allowed %v, want %v", g, i, allowed, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
