package compile

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/verdict-authz/verdict/xacml"
)

// expr renders an expression as a Rego term. The term is undefined exactly
// when the XACML expression is Indeterminate.
func (g *pkgGen) expr(e xacml.Expr) (string, error) {
	switch x := e.(type) {
	case *xacml.AttributeValue:
		return literal(x)
	case *xacml.AttributeDesignator:
		i := g.c.attr(x)
		if x.MustBePresent {
			return fmt.Sprintf("data.verdict.a.m%d", i), nil
		}
		return fmt.Sprintf("data.verdict.a.b%d", i), nil
	case *xacml.VariableReference:
		name, ok := g.vars[x.VariableID]
		if !ok {
			return "", posErr(x.Pos, fmt.Errorf("undefined variable %q", x.VariableID))
		}
		if g.out != &g.rb {
			// Variables live in the rule package.
			return "data.verdict.r." + g.name + "." + name, nil
		}
		return name, nil
	case *xacml.Apply:
		return g.apply(x)
	case *xacml.AttributeSelector:
		return "", posErr(x.Pos, fmt.Errorf("AttributeSelector is not supported"))
	case *xacml.FunctionRef:
		return "", posErr(x.Pos, fmt.Errorf("function %q used as a value outside a higher-order function", x.FunctionID))
	}
	return "", fmt.Errorf("unexpected expression %T", e)
}

func (g *pkgGen) apply(a *xacml.Apply) (string, error) {
	fi, ok := g.c.checked.Funcs.Lookup(a.FunctionID)
	if !ok {
		return "", posErr(a.Pos, fmt.Errorf("unknown function %q", a.FunctionID))
	}
	if fi.HigherOrder {
		return g.higherOrder(fi, a)
	}
	switch fi.Op {
	case xacml.OpAnd, xacml.OpOr, xacml.OpNOf:
		// These must tell Indeterminate arguments apart from false ones.
		var caught []string
		var first string
		for i, arg := range a.Args {
			term, err := g.expr(arg)
			if err != nil {
				return "", err
			}
			if fi.Op == xacml.OpNOf && i == 0 {
				first = term
				continue
			}
			caught = append(caught, catch(term, g.fresh("_c")))
		}
		list := "[" + strings.Join(caught, ", ") + "]"
		switch fi.Op {
		case xacml.OpAnd:
			return "lib.and(" + list + ")", nil
		case xacml.OpOr:
			return "lib.or(" + list + ")", nil
		}
		return "lib.n_of(" + first + ", " + list + ")", nil
	}
	args := make([]string, len(a.Args))
	for i, arg := range a.Args {
		term, err := g.expr(arg)
		if err != nil {
			return "", err
		}
		args[i] = term
	}
	return g.call(fi, args, a.Pos)
}

// catch turns a term into a one-element array, or an empty one when the
// term is undefined (Indeterminate).
func catch(term, v string) string {
	if term == "true" || term == "false" {
		return "[" + term + "]"
	}
	return "[" + v + " | " + v + " := " + term + "]"
}

// call renders the application of a first-order function to argument terms.
func (g *pkgGen) call(fi *xacml.FunctionInfo, args []string, pos xacml.Pos) (string, error) {
	t := xacml.ShortTypeName(fi.DataType)
	q := quote(t)
	need := func(n int) error {
		if len(args) != n {
			return posErr(pos, fmt.Errorf("function %s takes %d arguments, got %d", fi.ID, n, len(args)))
		}
		return nil
	}
	fold := func(op string) (string, error) {
		if len(args) < 2 {
			return "", posErr(pos, fmt.Errorf("function %s takes at least 2 arguments", fi.ID))
		}
		acc := args[0]
		for _, x := range args[1:] {
			acc = op + acc + ", " + x + ")"
		}
		return acc, nil
	}
	native := t == "string" || t == "boolean" || t == "integer" || t == "anyURI" || t == "double"
	switch fi.Op {
	case xacml.OpEqual:
		if err := need(2); err != nil {
			return "", err
		}
		if native {
			return "equal(" + args[0] + ", " + args[1] + ")", nil
		}
		return "xacml.eq(" + q + ", " + args[0] + ", " + args[1] + ")", nil
	case xacml.OpEqualIgnoreCase:
		if err := need(2); err != nil {
			return "", err
		}
		return "equal(lower(" + args[0] + "), lower(" + args[1] + "))", nil
	case xacml.OpAdd:
		if t == "double" {
			return fold(`xacml.darith("add", `)
		}
		return fold("plus(")
	case xacml.OpMultiply:
		if t == "double" {
			return fold(`xacml.darith("multiply", `)
		}
		return fold("mul(")
	case xacml.OpSubtract:
		if err := need(2); err != nil {
			return "", err
		}
		if t == "double" {
			return `xacml.darith("subtract", ` + args[0] + ", " + args[1] + ")", nil
		}
		return "minus(" + args[0] + ", " + args[1] + ")", nil
	case xacml.OpDivide:
		if err := need(2); err != nil {
			return "", err
		}
		if t == "integer" {
			return "xacml.idiv(" + args[0] + ", " + args[1] + ")", nil
		}
		return `xacml.darith("divide", ` + args[0] + ", " + args[1] + ")", nil
	case xacml.OpMod:
		if err := need(2); err != nil {
			return "", err
		}
		return "xacml.imod(" + args[0] + ", " + args[1] + ")", nil
	case xacml.OpAbs:
		if t == "double" {
			return unary(need, `xacml.dunary("abs", `, args)
		}
		return unary(need, "abs(", args)
	case xacml.OpRound:
		return unary(need, "xacml.round(", args)
	case xacml.OpFloor:
		return unary(need, `xacml.dunary("floor", `, args)
	case xacml.OpNormalizeSpace:
		return unary(need, "trim_space(", args)
	case xacml.OpLowerCase:
		return unary(need, "lower(", args)
	case xacml.OpDoubleToInteger:
		return unary(need, "xacml.to_integer(", args)
	case xacml.OpIntegerToDouble:
		if err := need(1); err != nil {
			return "", err
		}
		return args[0], nil
	case xacml.OpNot:
		if err := need(1); err != nil {
			return "", err
		}
		return "equal(" + args[0] + ", false)", nil
	case xacml.OpAnd, xacml.OpOr, xacml.OpNOf:
		// Reached from higher-order functions, whose arguments are bound
		// variables and therefore never undefined.
		var caught []string
		start := 0
		if fi.Op == xacml.OpNOf {
			start = 1
		}
		for _, a := range args[start:] {
			caught = append(caught, "["+a+"]")
		}
		list := "[" + strings.Join(caught, ", ") + "]"
		switch fi.Op {
		case xacml.OpAnd:
			return "lib.and(" + list + ")", nil
		case xacml.OpOr:
			return "lib.or(" + list + ")", nil
		}
		if len(args) == 0 {
			return "", posErr(pos, fmt.Errorf("n-of needs at least one argument"))
		}
		return "lib.n_of(" + args[0] + ", " + list + ")", nil
	case xacml.OpGreaterThan, xacml.OpGreaterOrEqual, xacml.OpLessThan, xacml.OpLessOrEqual:
		if err := need(2); err != nil {
			return "", err
		}
		op := map[xacml.Op]string{xacml.OpGreaterThan: "gt", xacml.OpGreaterOrEqual: "gte", xacml.OpLessThan: "lt", xacml.OpLessOrEqual: "lte"}[fi.Op]
		if t == "integer" || t == "string" {
			return op + "(" + args[0] + ", " + args[1] + ")", nil
		}
		return op + "(xacml.cmp(" + q + ", " + args[0] + ", " + args[1] + "), 0)", nil
	case xacml.OpTimeInRange:
		if err := need(3); err != nil {
			return "", err
		}
		return "xacml.time_in_range(" + strings.Join(args, ", ") + ")", nil
	case xacml.OpAddDuration, xacml.OpSubtractDuration:
		if err := need(2); err != nil {
			return "", err
		}
		sign := "1"
		if fi.Op == xacml.OpSubtractDuration {
			sign = "-1"
		}
		return fmt.Sprintf("xacml.date_add(%s, %s, %s, %s, %s)", q, quote(xacml.ShortTypeName(fi.Duration)), args[0], args[1], sign), nil
	case xacml.OpConcatenate, xacml.OpURIStringConcat:
		return "concat(\"\", [" + strings.Join(args, ", ") + "])", nil
	case xacml.OpFromString:
		if err := need(1); err != nil {
			return "", err
		}
		return "xacml.from_string(" + q + ", " + args[0] + ")", nil
	case xacml.OpToString:
		if err := need(1); err != nil {
			return "", err
		}
		return "xacml.to_string(" + q + ", " + args[0] + ")", nil
	case xacml.OpStartsWith:
		if err := need(2); err != nil {
			return "", err
		}
		return "startswith(" + args[1] + ", " + args[0] + ")", nil
	case xacml.OpEndsWith:
		if err := need(2); err != nil {
			return "", err
		}
		return "endswith(" + args[1] + ", " + args[0] + ")", nil
	case xacml.OpContains:
		if err := need(2); err != nil {
			return "", err
		}
		return "contains(" + args[1] + ", " + args[0] + ")", nil
	case xacml.OpSubstring:
		if err := need(3); err != nil {
			return "", err
		}
		return "xacml.substring(" + strings.Join(args, ", ") + ")", nil
	case xacml.OpOneAndOnly:
		return unary(need, "lib.one(", args)
	case xacml.OpBagSize:
		return unary(need, "count(", args)
	case xacml.OpIsIn:
		if err := need(2); err != nil {
			return "", err
		}
		if native {
			return "internal.member_2(" + args[0] + ", " + args[1] + ")", nil
		}
		return "xacml.is_in(" + q + ", " + args[0] + ", " + args[1] + ")", nil
	case xacml.OpBag:
		return "[" + strings.Join(args, ", ") + "]", nil
	case xacml.OpIntersection, xacml.OpAtLeastOneMember, xacml.OpSubset, xacml.OpSetEquals:
		if err := need(2); err != nil {
			return "", err
		}
		fn := map[xacml.Op]string{xacml.OpIntersection: "intersection", xacml.OpAtLeastOneMember: "at_least_one", xacml.OpSubset: "subset", xacml.OpSetEquals: "set_equals"}[fi.Op]
		return "xacml." + fn + "(" + q + ", " + args[0] + ", " + args[1] + ")", nil
	case xacml.OpUnion:
		return "xacml.union(" + q + ", [" + strings.Join(args, ", ") + "])", nil
	case xacml.OpRegexpMatch:
		if err := need(2); err != nil {
			return "", err
		}
		return "xacml.regexp_match(" + q + ", " + args[0] + ", " + args[1] + ")", nil
	case xacml.OpX500NameMatch:
		if err := need(2); err != nil {
			return "", err
		}
		return "xacml.x500_match(" + args[0] + ", " + args[1] + ")", nil
	case xacml.OpRFC822NameMatch:
		if err := need(2); err != nil {
			return "", err
		}
		return "xacml.rfc822_match(" + args[0] + ", " + args[1] + ")", nil
	}
	return "", posErr(pos, fmt.Errorf("function %s cannot be compiled", fi.ID))
}

func unary(need func(int) error, fn string, args []string) (string, error) {
	if err := need(1); err != nil {
		return "", err
	}
	return fn + args[0] + ")", nil
}

// higherOrder emits a Rego function for one higher-order application and
// returns the call to it. The function's parameters are the evaluated
// non-function arguments, so an Indeterminate argument makes the call
// undefined, as XACML requires.
func (g *pkgGen) higherOrder(fi *xacml.FunctionInfo, a *xacml.Apply) (string, error) {
	if len(a.Args) < 2 {
		return "", posErr(a.Pos, fmt.Errorf("%s needs a function and at least one argument", fi.ID))
	}
	ref, ok := a.Args[0].(*xacml.FunctionRef)
	if !ok {
		return "", posErr(a.Pos, fmt.Errorf("first argument of %s must be a <Function>", fi.ID))
	}
	f, ok := g.c.checked.Funcs.Lookup(ref.FunctionID)
	if !ok {
		return "", posErr(ref.Pos, fmt.Errorf("unknown function %q", ref.FunctionID))
	}
	rest := a.Args[1:]
	params := make([]string, len(rest))
	terms := make([]string, len(rest))
	isBag := make([]bool, len(rest))
	for i, arg := range rest {
		term, err := g.expr(arg)
		if err != nil {
			return "", err
		}
		terms[i] = term
		params[i] = "p" + strconv.Itoa(i)
		isBag[i] = g.c.checked.Types[arg].Bag
	}
	name := g.fresh("ho")
	// elems substitutes bag parameters by element variables e<i>.
	elems := func() []string {
		out := make([]string, len(params))
		for i := range params {
			if isBag[i] {
				out[i] = "e" + strconv.Itoa(i)
			} else {
				out[i] = params[i]
			}
		}
		return out
	}
	apply := func(args []string) (string, error) { return g.call(f, args, ref.Pos) }
	sig := name + "(" + strings.Join(params, ", ") + ")"
	var bags []int
	for i, b := range isBag {
		if b {
			bags = append(bags, i)
		}
	}
	somes := func(indent string) string {
		var s strings.Builder
		for _, i := range bags {
			fmt.Fprintf(&s, "%ssome e%d in p%d\n", indent, i, i)
		}
		return s.String()
	}
	everyOpen := func() (string, string) {
		var open, close strings.Builder
		indent := "\t"
		for _, i := range bags {
			fmt.Fprintf(&open, "%severy e%d in p%d {\n", indent, i, i)
			indent += "\t"
		}
		for k := len(bags) - 1; k >= 0; k-- {
			close.WriteString(strings.Repeat("\t", k+1) + "}\n")
		}
		return open.String(), close.String()
	}
	switch fi.Op {
	case xacml.OpAnyOf, xacml.OpAllOf, xacml.OpAnyOfAny, xacml.OpMap:
		if fi.Op != xacml.OpAnyOfAny && len(bags) != 1 {
			return "", posErr(a.Pos, fmt.Errorf("%s needs exactly one bag argument", fi.ID))
		}
		body, err := apply(elems())
		if err != nil {
			return "", err
		}
		open, close := everyOpen()
		inner := strings.Repeat("\t", len(bags)+1)
		switch fi.Op {
		case xacml.OpAnyOf, xacml.OpAnyOfAny:
			g.printf("\n%s := true if {\n%s\t%s == true\n} else := false if {\n%s%s%s == false\n%s}\n", sig, somes("\t"), body, open, inner, body, close)
		case xacml.OpAllOf:
			g.printf("\n%s := false if {\n%s\t%s == false\n} else := true if {\n%s%s%s == true\n%s}\n", sig, somes("\t"), body, open, inner, body, close)
		case xacml.OpMap:
			k := bags[0]
			g.printf("\n%s := r if {\n\tr := [y | some e%d in p%d; y := %s]\n\tcount(r) == count(p%d)\n}\n", sig, k, k, body, k)
		}
	case xacml.OpAllOfAny, xacml.OpAnyOfAll, xacml.OpAllOfAll:
		if len(rest) != 2 {
			return "", posErr(a.Pos, fmt.Errorf("%s takes a function and two bags", fi.ID))
		}
		body, err := apply([]string{"x", "y"})
		if err != nil {
			return "", err
		}
		in := name + "_in"
		// Inner quantifier over the second bag, outer over the first.
		innerAny := fi.Op == xacml.OpAllOfAny
		if innerAny {
			g.printf("\n%s(x, p1) := true if {\n\tsome y in p1\n\t%s == true\n} else := false if {\n\tevery y in p1 {\n\t\t%s == false\n\t}\n}\n", in, body, body)
		} else {
			g.printf("\n%s(x, p1) := false if {\n\tsome y in p1\n\t%s == false\n} else := true if {\n\tevery y in p1 {\n\t\t%s == true\n\t}\n}\n", in, body, body)
		}
		if fi.Op == xacml.OpAnyOfAll {
			g.printf("\n%s := true if {\n\tsome x in p0\n\t%s(x, p1) == true\n} else := false if {\n\tevery x in p0 {\n\t\t%s(x, p1) == false\n\t}\n}\n", sig, in, in)
		} else {
			g.printf("\n%s := false if {\n\tsome x in p0\n\t%s(x, p1) == false\n} else := true if {\n\tevery x in p0 {\n\t\t%s(x, p1) == true\n\t}\n}\n", sig, in, in)
		}
	default:
		return "", posErr(a.Pos, fmt.Errorf("unsupported higher-order function %s", fi.ID))
	}
	return name + "(" + strings.Join(terms, ", ") + ")", nil
}

// literal renders an AttributeValue in the engine's value representation.
func literal(v *xacml.AttributeValue) (string, error) {
	dt, ok := xacml.CanonicalDataType(v.DataType)
	if !ok {
		return "", posErr(v.Pos, fmt.Errorf("unknown data type %q", v.DataType))
	}
	lex := v.Value
	switch dt {
	case xacml.TypeBoolean:
		switch strings.TrimSpace(lex) {
		case "true", "1":
			return "true", nil
		case "false", "0":
			return "false", nil
		}
		return "", posErr(v.Pos, fmt.Errorf("invalid boolean %q", lex))
	case xacml.TypeInteger:
		n, ok := new(big.Int).SetString(strings.TrimPrefix(strings.TrimSpace(lex), "+"), 10)
		if !ok {
			return "", posErr(v.Pos, fmt.Errorf("invalid integer %q", lex))
		}
		return n.String(), nil
	case xacml.TypeDouble:
		return doubleLiteral(strings.TrimSpace(lex), v.Pos)
	}
	return quote(lex), nil
}

// doubleLiteral keeps the lexical form when it is valid Rego number syntax
// (so "27.50" prints back as "27.50"); specials become strings.
func doubleLiteral(lex string, pos xacml.Pos) (string, error) {
	switch lex {
	case "INF", "+INF":
		return `"INF"`, nil
	case "-INF":
		return `"-INF"`, nil
	case "NaN":
		return `"NaN"`, nil
	}
	f, err := strconv.ParseFloat(lex, 64)
	if err != nil {
		return "", posErr(pos, fmt.Errorf("invalid double %q", lex))
	}
	if json.Valid([]byte(lex)) {
		return lex, nil
	}
	return strconv.FormatFloat(f, 'g', -1, 64), nil
}
