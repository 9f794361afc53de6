package xacmlfn

import (
	"context"
	"fmt"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// The builtin-level benchmarks call the functions OPA calls, with the terms
// it passes; the Rego-level ones add OPA's evaluation of a one-rule query.

func BenchmarkEqDateTime(b *testing.B) {
	l := newLibrary(nil)
	typ := ast.StringTerm("dateTime")
	x := ast.StringTerm("2002-03-22T08:23:47.25-05:00")
	y := ast.StringTerm("2002-03-22T13:23:47.25Z")
	b.ReportAllocs()
	for b.Loop() {
		r, err := l.eqBuiltin(rego.BuiltinContext{}, typ, x, y)
		if err != nil || r.Value != ast.Boolean(true) {
			b.Fatal(r, err)
		}
	}
}

func BenchmarkCmpDateTime(b *testing.B) {
	l := newLibrary(nil)
	typ := ast.StringTerm("dateTime")
	x := ast.StringTerm("2002-03-22T08:23:47-05:00")
	y := ast.StringTerm("2002-03-22T13:23:48Z")
	b.ReportAllocs()
	for b.Loop() {
		r, err := l.cmpBuiltin(rego.BuiltinContext{}, typ, x, y)
		if err != nil || r.Value.Compare(ast.Number("-1")) != 0 {
			b.Fatal(r, err)
		}
	}
}

func BenchmarkEqString(b *testing.B) {
	l := newLibrary(nil)
	typ := ast.StringTerm("string")
	x := ast.StringTerm("urn:example:resource:42")
	y := ast.StringTerm("urn:example:resource:42")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := l.eqBuiltin(rego.BuiltinContext{}, typ, x, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIsInString(b *testing.B) {
	for _, n := range []int{10, 100} {
		b.Run(fmt.Sprintf("bag=%d", n), func(b *testing.B) {
			l := newLibrary(nil)
			typ := ast.StringTerm("string")
			terms := make([]*ast.Term, n)
			for i := range terms {
				terms[i] = ast.StringTerm(fmt.Sprintf("role-%03d", i))
			}
			bag := ast.ArrayTerm(terms...)
			v := ast.StringTerm(fmt.Sprintf("role-%03d", n-1)) // worst case: last
			b.ReportAllocs()
			for b.Loop() {
				r, err := l.isInBuiltin(rego.BuiltinContext{}, typ, v, bag)
				if err != nil || r.Value != ast.Boolean(true) {
					b.Fatal(r, err)
				}
			}
		})
	}
}

func BenchmarkIsInDateTime(b *testing.B) {
	l := newLibrary(nil)
	typ := ast.StringTerm("dateTime")
	terms := make([]*ast.Term, 10)
	for i := range terms {
		terms[i] = ast.StringTerm(fmt.Sprintf("2002-03-%02dT13:23:47Z", i+1))
	}
	bag := ast.ArrayTerm(terms...)
	v := ast.StringTerm("2002-03-10T08:23:47-05:00")
	b.ReportAllocs()
	for b.Loop() {
		r, err := l.isInBuiltin(rego.BuiltinContext{}, typ, v, bag)
		if err != nil || r.Value != ast.Boolean(true) {
			b.Fatal(r, err)
		}
	}
}

func BenchmarkIntersectionString(b *testing.B) {
	for _, n := range []int{4, 64} {
		b.Run(fmt.Sprintf("bags=%d", n), func(b *testing.B) {
			l := newLibrary(nil)
			typ := ast.StringTerm("string")
			x := make([]*ast.Term, n)
			y := make([]*ast.Term, n)
			for i := range x {
				x[i] = ast.StringTerm(fmt.Sprintf("v%d", i))
				y[i] = ast.StringTerm(fmt.Sprintf("v%d", i+n/2))
			}
			bx, by := ast.ArrayTerm(x...), ast.ArrayTerm(y...)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := l.intersectionBuiltin(rego.BuiltinContext{}, typ, bx, by); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRegexpMatchCached(b *testing.B) {
	l := newLibrary(nil)
	typ := ast.StringTerm("string")
	p := ast.StringTerm(`^[a-z-[aeiou]]+\d{2}$`)
	v := ast.StringTerm("bcdfg42")
	b.ReportAllocs()
	for b.Loop() {
		r, err := l.regexpMatchBuiltin(rego.BuiltinContext{}, typ, p, v)
		if err != nil || r.Value != ast.Boolean(true) {
			b.Fatal(r, err)
		}
	}
}

func BenchmarkValue(b *testing.B) {
	for _, c := range []struct{ typ, lexical string }{
		{"string", "urn:example:resource:42"},
		{"integer", "45"},
		{"double", "27.50"},
		{"dateTime", "2002-03-22T08:23:47-05:00"},
	} {
		b.Run(c.typ, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Value(c.typ, c.lexical); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRegoEqDateTime measures a whole prepared-query evaluation whose
// only work is one xacml.eq call, to set the builtin's cost against OPA's.
func BenchmarkRegoEqDateTime(b *testing.B) {
	module := "package t\n\nallow if xacml.eq(\"dateTime\", input.when, \"2002-03-22T13:23:47Z\")\n"
	args := append([]func(*rego.Rego){rego.Query("data.t.allow"), rego.Module("t.rego", module)}, Options()...)
	pq, err := rego.New(args...).PrepareForEval(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	input := ast.NewObject(ast.Item(ast.StringTerm("when"), ast.StringTerm("2002-03-22T08:23:47-05:00")))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
		if err != nil || len(rs) != 1 {
			b.Fatal(rs, err)
		}
	}
}
