package xacml

import (
	"fmt"
)

// varScope holds the variables of one Policy while it is checked.
type varScope struct {
	defs  map[string]*VariableDefinition
	state map[*VariableDefinition]int // 0 unchecked, 1 being checked, 2 checked
	types map[*VariableDefinition]varType
}

// varType is the memoised type of a variable; ok is false when its
// definition has an error (already reported).
type varType struct {
	t  Type
	ok bool
}

// variable types a definition once, detecting definitions that depend on
// themselves.
func (c *checker) variable(v *VariableDefinition, s *varScope) varType {
	switch s.state[v] {
	case 2:
		return s.types[v]
	case 1:
		return varType{}
	}
	s.state[v] = 1
	var res varType
	switch v.Expr.(type) {
	case nil:
		c.errs.add(v.Pos, ErrSyntax, "VariableDefinition %q has no expression", v.ID)
	case *FunctionRef:
		c.errs.add(v.Expr.Position(), ErrType, "variable %q cannot be a <Function>", v.ID)
	default:
		res.t, res.ok = c.expr(v.Expr, s)
	}
	s.state[v] = 2
	s.types[v] = res
	return res
}

// record stores the type of e and passes it through.
func (c *checker) record(e Expr, t Type) (Type, bool) {
	c.out.Types[e] = t
	return t, true
}

// expr type-checks an expression in a general position (where a <Function>
// is not allowed) and returns its type; ok is false when an error already
// reported makes the type unknown.
func (c *checker) expr(e Expr, s *varScope) (Type, bool) {
	switch e := e.(type) {
	case *Apply:
		return c.apply(e, s)
	case *AttributeValue:
		return c.attributeValue(e)
	case *AttributeDesignator:
		if e.Category == "" {
			c.errs.add(e.Pos, ErrSyntax, "AttributeDesignator has no Category")
		}
		if e.AttributeID == "" {
			c.errs.add(e.Pos, ErrSyntax, "AttributeDesignator has no AttributeId")
		}
		dt, ok := c.dataType(e.Pos, e.DataType)
		if !ok {
			return Type{}, false
		}
		return c.record(e, Type{DataType: dt, Bag: true})
	case *AttributeSelector:
		c.errs.add(e.Pos, ErrUnsupported, "AttributeSelector (XPath over request <Content>) is not supported; use an AttributeDesignator")
		dt, ok := c.dataType(e.Pos, e.DataType)
		if !ok {
			return Type{}, false
		}
		return c.record(e, Type{DataType: dt, Bag: true})
	case *VariableReference:
		if s == nil {
			c.errs.add(e.Pos, ErrVariable, "VariableReference %q outside a Policy", e.VariableID)
			return Type{}, false
		}
		def, ok := s.defs[e.VariableID]
		if !ok {
			c.errs.add(e.Pos, ErrVariable, "undefined variable %q", e.VariableID)
			return Type{}, false
		}
		c.out.Vars[e] = def
		if s.state[def] == 1 {
			c.errs.add(e.Pos, ErrCircularVariable, "variable %q refers to itself through its definition", e.VariableID)
			return Type{}, false
		}
		vt := c.variable(def, s)
		if !vt.ok {
			return Type{}, false
		}
		return c.record(e, vt.t)
	case *FunctionRef:
		c.errs.add(e.Pos, ErrType, "a <Function> is only allowed as the first argument of a higher-order function")
		if f, ok := c.reg.Lookup(e.FunctionID); ok {
			c.out.Types[e] = Type{Func: f}
		}
		return Type{}, false
	case nil:
		return Type{}, false
	}
	c.errs.add(e.Position(), ErrSyntax, "unsupported expression type %T", e)
	return Type{}, false
}

// dataType resolves a DataType attribute to its canonical identifier.
func (c *checker) dataType(pos Pos, id string) (string, bool) {
	switch id {
	case "":
		c.errs.add(pos, ErrSyntax, "missing DataType")
		return "", false
	case TypeXPathExpression:
		c.errs.add(pos, ErrUnsupported, "the xpathExpression data type is not supported (Verdict has no XPath)")
		return "", false
	}
	dt, ok := CanonicalDataType(id)
	if !ok {
		c.errs.add(pos, ErrUnknownDataType, "unknown data type %q", id)
		return "", false
	}
	return dt, true
}

func (c *checker) attributeValue(v *AttributeValue) (Type, bool) {
	dt, ok := c.dataType(v.Pos, v.DataType)
	if !ok {
		return Type{}, false
	}
	if err := CheckLexical(dt, v.Value); err != nil {
		c.errs.add(v.Pos, ErrInvalidValue, "%q is not a valid %s", v.Value, ShortTypeName(dt))
		return Type{}, false
	}
	return c.record(v, Type{DataType: dt})
}

// paramType returns the type of parameter i of f, if f takes that many.
func paramType(f *FunctionInfo, i int) (Type, bool) {
	if i < len(f.Params) {
		return f.Params[i], true
	}
	if f.Variadic != nil {
		return *f.Variadic, true
	}
	return Type{}, false
}

// arityProblem describes why f cannot take n arguments, or returns "".
func arityProblem(f *FunctionInfo, n int) string {
	if f.Variadic == nil {
		if n != len(f.Params) {
			return fmt.Sprintf("%s takes %d argument%s, got %d", ShortFunctionName(f.ID), len(f.Params), plural(len(f.Params)), n)
		}
		return ""
	}
	if min := len(f.Params) + f.MinVariadic; n < min {
		return fmt.Sprintf("%s takes at least %d argument%s, got %d", ShortFunctionName(f.ID), min, plural(min), n)
	}
	return ""
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func sameType(a, b Type) bool {
	return a.Func == nil && b.Func == nil && a.DataType == b.DataType && a.Bag == b.Bag
}

func (c *checker) apply(a *Apply, s *varScope) (Type, bool) {
	if a.FunctionID == "" {
		c.errs.add(a.Pos, ErrSyntax, "Apply has no FunctionId")
		c.args(a.Args, s)
		return Type{}, false
	}
	f, known := c.reg.Lookup(a.FunctionID)
	if !known {
		c.errs.add(a.Pos, ErrUnknownFunction, "unknown function %q", a.FunctionID)
		c.args(a.Args, s)
		return Type{}, false
	}
	if f.HigherOrder {
		return c.higherOrder(a, f, s)
	}
	types, oks := c.args(a.Args, s)
	if msg := arityProblem(f, len(a.Args)); msg != "" {
		c.errs.add(a.Pos, ErrType, "%s", msg)
	} else {
		for i, t := range types {
			want, _ := paramType(f, i)
			if oks[i] && !sameType(want, t) {
				c.errs.add(a.Args[i].Position(), ErrType, "argument %d of %s must be %s, got %s", i+1, ShortFunctionName(f.ID), want, t)
			}
		}
	}
	return c.record(a, f.Return)
}

// args types the arguments of an Apply; oks[i] is false for those whose
// type is unknown because of an error already reported.
func (c *checker) args(args []Expr, s *varScope) ([]Type, []bool) {
	types := make([]Type, len(args))
	oks := make([]bool, len(args))
	for i, arg := range args {
		if arg == nil {
			continue
		}
		types[i], oks[i] = c.expr(arg, s)
	}
	return types, oks
}

// higherOrder checks the higher-order bag functions of XACML 3.0 A.3.12:
//
//	any-of, all-of, map  f, n values (n ≥ 1) of which exactly one is a bag
//	any-of-any           f, n values or bags (n ≥ 1)
//	all-of-any, any-of-all, all-of-all   f, bag, bag
//
// and their XACML 1.0 identifiers with the 1.0 forms: any-of and all-of
// take (f, value, bag), any-of-any and the others (f, bag, bag), map (f, bag).
// f is a non-higher-order function of the bags' element types and of the
// values' types, boolean except for map, whose result is a bag of what f
// returns.
func (c *checker) higherOrder(a *Apply, f *FunctionInfo, s *varScope) (Type, bool) {
	name := ShortFunctionName(f.ID)
	if f.Legacy {
		name = f.ID
	}
	result := Type{DataType: TypeBoolean}
	if len(a.Args) == 0 {
		c.errs.add(a.Pos, ErrType, "%s takes a <Function> and bags, got no arguments", name)
		return c.record(a, result)
	}
	var g *FunctionInfo
	switch fr := a.Args[0].(type) {
	case *FunctionRef:
		gf, ok := c.reg.Lookup(fr.FunctionID)
		switch {
		case !ok:
			c.errs.add(fr.Pos, ErrUnknownFunction, "unknown function %q", fr.FunctionID)
		case gf.HigherOrder:
			c.errs.add(fr.Pos, ErrType, "%s cannot be passed to %s: higher-order functions do not nest", ShortFunctionName(gf.ID), name)
			c.out.Types[fr] = Type{Func: gf}
		default:
			g = gf
			c.out.Types[fr] = Type{Func: gf}
		}
	default:
		c.errs.add(a.Args[0].Position(), ErrType, "the first argument of %s must be a <Function>", name)
		c.expr(a.Args[0], s)
	}
	rest := a.Args[1:]
	types, oks := c.args(rest, s)
	if f.Op == OpMap && g != nil {
		if g.Return.Bag {
			c.errs.add(a.Args[0].Position(), ErrType, "%s returns a bag; map needs a function returning a single value", ShortFunctionName(g.ID))
		}
		result = Type{DataType: g.Return.DataType, Bag: true}
	}
	known := true
	for _, ok := range oks {
		known = known && ok
	}
	if msg := higherOrderShape(f, name, types, oks); msg != "" {
		c.errs.add(a.Pos, ErrType, "%s", msg)
		return c.record(a, result)
	}
	if g == nil || !known {
		return c.record(a, result)
	}
	if f.Op != OpMap && !isBoolean(g.Return) {
		c.errs.add(a.Args[0].Position(), ErrType, "%s needs a boolean function; %s returns %s", name, ShortFunctionName(g.ID), g.Return)
	}
	if msg := arityProblem(g, len(types)); msg != "" {
		c.errs.add(a.Args[0].Position(), ErrType, "%s is applied by %s to %d argument%s: %s", ShortFunctionName(g.ID), name, len(types), plural(len(types)), msg)
		return c.record(a, result)
	}
	for i, t := range types {
		elem := Type{DataType: t.DataType}
		want, _ := paramType(g, i)
		if !sameType(want, elem) {
			what := t.String()
			if t.Bag {
				what = "elements of " + what
			}
			c.errs.add(rest[i].Position(), ErrType, "argument %d of %s must be %s, got %s (applied by %s)", i+1, ShortFunctionName(g.ID), want, what, name)
		}
	}
	return c.record(a, result)
}

// higherOrderShape checks the number of arguments after the function and
// which of them are bags; it returns a message, or "" when the shape fits.
func higherOrderShape(f *FunctionInfo, name string, types []Type, oks []bool) string {
	n := len(types)
	bags, unknown := 0, 0
	for i, t := range types {
		switch {
		case !oks[i]:
			unknown++
		case t.Bag:
			bags++
		}
	}
	// isBagAt reports whether argument i has the required bag-ness
	// (unknown types are given the benefit of the doubt).
	isBagAt := func(i int, bag bool) bool { return !oks[i] || types[i].Bag == bag }
	if f.Legacy {
		switch f.Op {
		case OpAnyOf, OpAllOf:
			if n != 2 || !isBagAt(0, false) || !isBagAt(1, true) {
				return fmt.Sprintf("%s takes (function, value, bag); use the XACML 3.0 identifier for other forms", name)
			}
		case OpMap:
			if n != 1 || !isBagAt(0, true) {
				return fmt.Sprintf("%s takes (function, bag); use the XACML 3.0 identifier for other forms", name)
			}
		default:
			if n != 2 || !isBagAt(0, true) || !isBagAt(1, true) {
				return fmt.Sprintf("%s takes (function, bag, bag)", name)
			}
		}
		return ""
	}
	switch f.Op {
	case OpAnyOf, OpAllOf, OpMap:
		if n < 1 {
			return fmt.Sprintf("%s takes a function and at least one more argument", name)
		}
		if bags > 1 || (unknown == 0 && bags != 1) {
			return fmt.Sprintf("%s needs exactly one bag among its arguments after the function, got %d", name, bags)
		}
	case OpAnyOfAny:
		if n < 1 {
			return fmt.Sprintf("%s takes a function and at least one more argument", name)
		}
	default:
		if n != 2 || !isBagAt(0, true) || !isBagAt(1, true) {
			return fmt.Sprintf("%s takes (function, bag, bag)", name)
		}
	}
	return ""
}

// match checks a <Match>: MatchId names a boolean function of two
// arguments, called with the AttributeValue first and each value of the
// designated attribute second, so its parameter types must be the value's
// type and the attribute's data type.
func (c *checker) match(m *Match) {
	var vt, at Type
	var vok, aok bool
	if m.Value != nil {
		vt, vok = c.attributeValue(m.Value)
	} else {
		c.errs.add(m.Pos, ErrSyntax, "Match has no AttributeValue")
	}
	switch attr := m.Attribute.(type) {
	case *AttributeDesignator, *AttributeSelector:
		at, aok = c.expr(attr, nil)
	case nil:
		c.errs.add(m.Pos, ErrSyntax, "Match has no AttributeDesignator or AttributeSelector")
	default:
		c.errs.add(attr.Position(), ErrSyntax, "a Match compares with an AttributeDesignator or AttributeSelector, not %s", attr.Position().Element)
	}
	if m.FunctionID == "" {
		c.errs.add(m.Pos, ErrSyntax, "Match has no MatchId")
		return
	}
	f, ok := c.reg.Lookup(m.FunctionID)
	if !ok {
		c.errs.add(m.Pos, ErrUnknownFunction, "unknown function %q", m.FunctionID)
		return
	}
	name := ShortFunctionName(f.ID)
	if f.HigherOrder || arityProblem(f, 2) != "" || !isBoolean(f.Return) {
		c.errs.add(m.Pos, ErrType, "MatchId %s is not a boolean function of two arguments", name)
		return
	}
	p0, _ := paramType(f, 0)
	p1, _ := paramType(f, 1)
	if vok && !sameType(p0, vt) {
		c.errs.add(m.Value.Pos, ErrType, "MatchId %s compares a %s value, but the AttributeValue is %s", name, p0, vt)
	}
	if aok && (p1.Bag || p1.Func != nil || p1.DataType != at.DataType) {
		c.errs.add(m.Attribute.Position(), ErrType, "MatchId %s compares with %s values, but the attribute's DataType is %s", name, p1, ShortTypeName(at.DataType))
	}
}
