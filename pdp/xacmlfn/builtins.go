package xacmlfn

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"
)

// Builtin names, as compiled policies call them.
const (
	nameEq           = "xacml.eq"
	nameCmp          = "xacml.cmp"
	nameIsIn         = "xacml.is_in"
	nameIntersection = "xacml.intersection"
	nameUnion        = "xacml.union"
	nameSubset       = "xacml.subset"
	nameSetEquals    = "xacml.set_equals"
	nameAtLeastOne   = "xacml.at_least_one"
	nameIDiv         = "xacml.idiv"
	nameIMod         = "xacml.imod"
	nameRound        = "xacml.round"
	nameToInteger    = "xacml.to_integer"
	nameFromString   = "xacml.from_string"
	nameToString     = "xacml.to_string"
	nameSubstring    = "xacml.substring"
	nameTimeInRange  = "xacml.time_in_range"
	nameDateAdd      = "xacml.date_add"
	nameRegexpMatch  = "xacml.regexp_match"
	nameX500Match    = "xacml.x500_match"
	nameRFC822Match  = "xacml.rfc822_match"
)

// library is one configured set of builtins. It carries what a builtin
// needs beyond its arguments (the implicit time zone, the compiled regular
// expression cache), so that two engines configured differently do not share
// state and the package has no globals.
type library struct {
	implicitTZ int // minutes east of UTC
	regexps    *regexpCache
}

func newLibrary(opts []Option) *library {
	c := defaultConfig()
	for _, o := range opts {
		o.applyTo(&c)
	}
	if err := c.validate(); err != nil {
		panic(err)
	}
	return &library{
		implicitTZ: int(c.implicitTZ.Minutes()),
		regexps:    newRegexpCache(c.regexpCacheSize),
	}
}

// Options returns the rego.New options that register every XACML builtin
// (rego.Function1..4 and FunctionDyn, with typed declarations, deterministic,
// not memoized), sharing one configuration and one regular expression cache.
// The engine appends them to the options of each rego.New it prepares with
// PrepareForEval; calling Options once per engine keeps the cache shared
// across its queries, while two engines configured differently stay apart.
func Options(opts ...Option) []func(*rego.Rego) {
	l := newLibrary(opts)
	d := declarations()
	return []func(*rego.Rego){
		rego.Function3(d.eq, l.eqBuiltin),
		rego.Function3(d.cmp, l.cmpBuiltin),
		rego.Function3(d.isIn, l.isInBuiltin),
		rego.Function3(d.intersection, l.intersectionBuiltin),
		rego.Function2(d.union, l.unionBuiltin),
		rego.Function3(d.subset, l.subsetBuiltin),
		rego.Function3(d.setEquals, l.setEqualsBuiltin),
		rego.Function3(d.atLeastOne, l.atLeastOneBuiltin),
		rego.Function2(d.idiv, idivBuiltin),
		rego.Function2(d.imod, imodBuiltin),
		rego.Function1(d.round, roundBuiltin),
		rego.Function1(d.toInteger, toIntegerBuiltin),
		rego.Function2(d.fromString, fromStringBuiltin),
		rego.Function2(d.toString, toStringBuiltin),
		rego.Function3(d.substring, substringBuiltin),
		rego.Function3(d.timeInRange, l.timeInRangeBuiltin),
		rego.FunctionDyn(d.dateAdd, dateAddBuiltin),
		rego.Function3(d.regexpMatch, l.regexpMatchBuiltin),
		rego.Function2(d.x500Match, x500MatchBuiltin),
		rego.Function2(d.rfc822Match, rfc822MatchBuiltin),
		rego.Function3(d.dArith, dArithBuiltin),
		rego.Function2(d.dUnary, dUnaryBuiltin),
	}
}

// Declarations returns the declarations of every builtin, for compiling
// modules outside rego.New (ast.CompileModulesWithOpt, capabilities files)
// so that the type checker knows their signatures. They are deterministic.
func Declarations() []*ast.Builtin {
	d := declarations()
	fns := []*rego.Function{
		d.eq, d.cmp, d.isIn, d.intersection, d.union, d.subset, d.setEquals,
		d.atLeastOne, d.idiv, d.imod, d.round, d.toInteger, d.fromString,
		d.toString, d.substring, d.timeInRange, d.dateAdd, d.regexpMatch,
		d.x500Match, d.rfc822Match, d.dArith, d.dUnary,
	}
	out := make([]*ast.Builtin, len(fns))
	for i, f := range fns {
		out[i] = &ast.Builtin{
			Name:             f.Name,
			Description:      f.Description,
			Decl:             f.Decl,
			Nondeterministic: f.Nondeterministic,
		}
	}
	return out
}

// decls holds one rego.Function per builtin.
type decls struct {
	eq, cmp, isIn, intersection, union, subset, setEquals, atLeastOne *rego.Function
	idiv, imod, round, toInteger, fromString, toString, substring     *rego.Function
	timeInRange, dateAdd, regexpMatch, x500Match, rfc822Match         *rego.Function
	dArith, dUnary                                                    *rego.Function
}

func declarations() decls {
	typ := types.Named("t", types.S).Description("short data type name")
	bagT := types.NewAny(types.NewArray(nil, types.A), types.NewSet(types.A))
	bag := func(name string) *types.NamedType { return types.Named(name, bagT).Description("bag") }
	val := func(name string) *types.NamedType { return types.Named(name, types.A).Description("value") }
	str := func(name string) *types.NamedType { return types.Named(name, types.S) }
	num := func(name string) *types.NamedType { return types.Named(name, types.N) }
	boolean := types.Named("result", types.B)
	fn := func(name, desc string, result types.Type, args ...types.Type) *rego.Function {
		return &rego.Function{
			Name:        name,
			Description: desc,
			Decl:        types.NewFunction(args, result),
		}
	}
	return decls{
		eq:           fn(nameEq, "XACML <t>-equal", boolean, typ, val("a"), val("b")),
		cmp:          fn(nameCmp, "order of two values: -1, 0 or 1", num("result"), typ, val("a"), val("b")),
		isIn:         fn(nameIsIn, "XACML <t>-is-in", boolean, typ, val("v"), bag("bag")),
		intersection: fn(nameIntersection, "XACML <t>-intersection", types.Named("result", types.NewArray(nil, types.A)), typ, bag("a"), bag("b")),
		union: fn(nameUnion, "XACML <t>-union of an array of bags", types.Named("result", types.NewArray(nil, types.A)),
			typ, types.Named("bags", types.NewArray(nil, bagT)).Description("array of bags")),
		subset:      fn(nameSubset, "XACML <t>-subset: a is a subset of b", boolean, typ, bag("a"), bag("b")),
		setEquals:   fn(nameSetEquals, "XACML <t>-set-equals", boolean, typ, bag("a"), bag("b")),
		atLeastOne:  fn(nameAtLeastOne, "XACML <t>-at-least-one-member-of", boolean, typ, bag("a"), bag("b")),
		idiv:        fn(nameIDiv, "XACML integer-divide, truncated toward zero", num("result"), num("a"), num("b")),
		imod:        fn(nameIMod, "XACML integer-mod, with the sign of the dividend", num("result"), num("a"), num("b")),
		round:       fn(nameRound, "XACML round, ties to even", types.Named("result", types.NewAny(types.N, types.S)), val("x")),
		toInteger:   fn(nameToInteger, "XACML double-to-integer, truncated toward zero", num("result"), val("x")),
		fromString:  fn(nameFromString, "XACML <t>-from-string", types.Named("result", types.A), typ, str("s")),
		toString:    fn(nameToString, "XACML string-from-<t>", str("result"), typ, val("v")),
		substring:   fn(nameSubstring, "XACML string-substring: code points [begin, end), end -1 for the end", str("result"), str("s"), num("begin"), num("end")),
		timeInRange: fn(nameTimeInRange, "XACML time-in-range: v within [lo, hi], wrapping past midnight", boolean, str("v"), str("lo"), str("hi")),
		dateAdd: fn(nameDateAdd, "XACML date/dateTime plus (sign 1) or minus (sign -1) a duration", str("result"),
			typ, types.Named("dt", types.S).Description("duration type name"), str("v"), str("dur"), num("sign")),
		regexpMatch: fn(nameRegexpMatch, "XACML <t>-regexp-match (XPath fn:matches, unanchored)", boolean, typ, str("pattern"), str("v")),
		x500Match:   fn(nameX500Match, "XACML x500Name-match: a is a terminal sequence of b's RDNs", boolean, str("a"), str("b")),
		rfc822Match: fn(nameRFC822Match, "XACML rfc822Name-match", boolean, str("pattern"), str("name")),
		dArith: fn(nameDArith, "XACML double-add/subtract/multiply/divide (op), specials included",
			types.Named("result", types.NewAny(types.N, types.S)), str("op"), val("a"), val("b")),
		dUnary: fn(nameDUnary, "XACML double-abs and floor (op), specials included",
			types.Named("result", types.NewAny(types.N, types.S)), str("op"), val("x")),
	}
}

// typeArg reads the short type name argument.
func typeArg(t *ast.Term) (dtype, error) {
	s, ok := t.Value.(ast.String)
	if !ok {
		return tInvalid, fmt.Errorf("%w: type name must be a string, got %s", ErrUnknownType, ast.ValueName(t.Value))
	}
	return lookupType(string(s))
}

func stringArg(name string, t *ast.Term) (string, error) {
	s, ok := t.Value.(ast.String)
	if !ok {
		return "", fmt.Errorf("%w: %s must be a string, got %s", ErrType, name, ast.ValueName(t.Value))
	}
	return string(s), nil
}

func boolTerm(b bool, err error) (*ast.Term, error) {
	if err != nil {
		return nil, err
	}
	return ast.InternedTerm(b), nil
}

func (l *library) eqBuiltin(_ rego.BuiltinContext, t, a, b *ast.Term) (*ast.Term, error) {
	dt, err := typeArg(t)
	if err != nil {
		return nil, err
	}
	return boolTerm(l.equal(dt, a.Value, b.Value))
}

func (l *library) cmpBuiltin(_ rego.BuiltinContext, t, a, b *ast.Term) (*ast.Term, error) {
	dt, err := typeArg(t)
	if err != nil {
		return nil, err
	}
	c, err := l.compare(dt, a.Value, b.Value)
	if err != nil {
		return nil, err
	}
	return ast.InternedTerm(c), nil
}

func (l *library) isInBuiltin(_ rego.BuiltinContext, t, v, b *ast.Term) (*ast.Term, error) {
	dt, err := typeArg(t)
	if err != nil {
		return nil, err
	}
	bg, err := bagOf(b.Value)
	if err != nil {
		return nil, err
	}
	return boolTerm(l.isIn(dt, v.Value, bg))
}

// twoBags reads the type and the two bag arguments of a set function.
func twoBags(t, a, b *ast.Term) (dtype, bag, bag, error) {
	dt, err := typeArg(t)
	if err != nil {
		return tInvalid, bag{}, bag{}, err
	}
	x, err := bagOf(a.Value)
	if err != nil {
		return tInvalid, bag{}, bag{}, err
	}
	y, err := bagOf(b.Value)
	if err != nil {
		return tInvalid, bag{}, bag{}, err
	}
	return dt, x, y, nil
}

func (l *library) intersectionBuiltin(_ rego.BuiltinContext, t, a, b *ast.Term) (*ast.Term, error) {
	dt, x, y, err := twoBags(t, a, b)
	if err != nil {
		return nil, err
	}
	return l.intersection(dt, x, y)
}

func (l *library) unionBuiltin(_ rego.BuiltinContext, t, bagsArg *ast.Term) (*ast.Term, error) {
	dt, err := typeArg(t)
	if err != nil {
		return nil, err
	}
	outer, ok := bagsArg.Value.(*ast.Array)
	if !ok {
		return nil, fmt.Errorf("%w: union takes an array of bags, got %s", ErrType, ast.ValueName(bagsArg.Value))
	}
	bags := make([]bag, outer.Len())
	for i := range bags {
		if bags[i], err = bagOf(outer.Elem(i).Value); err != nil {
			return nil, err
		}
	}
	return l.union(dt, bags)
}

func (l *library) subsetBuiltin(_ rego.BuiltinContext, t, a, b *ast.Term) (*ast.Term, error) {
	dt, x, y, err := twoBags(t, a, b)
	if err != nil {
		return nil, err
	}
	return boolTerm(l.subset(dt, x, y))
}

func (l *library) setEqualsBuiltin(_ rego.BuiltinContext, t, a, b *ast.Term) (*ast.Term, error) {
	dt, x, y, err := twoBags(t, a, b)
	if err != nil {
		return nil, err
	}
	return boolTerm(l.setEquals(dt, x, y))
}

func (l *library) atLeastOneBuiltin(_ rego.BuiltinContext, t, a, b *ast.Term) (*ast.Term, error) {
	dt, x, y, err := twoBags(t, a, b)
	if err != nil {
		return nil, err
	}
	return boolTerm(l.atLeastOne(dt, x, y))
}

func idivBuiltin(_ rego.BuiltinContext, a, b *ast.Term) (*ast.Term, error) {
	return integerDivide(a.Value, b.Value)
}

func imodBuiltin(_ rego.BuiltinContext, a, b *ast.Term) (*ast.Term, error) {
	return integerMod(a.Value, b.Value)
}

func roundBuiltin(_ rego.BuiltinContext, x *ast.Term) (*ast.Term, error) {
	return roundDouble(x.Value)
}

func toIntegerBuiltin(_ rego.BuiltinContext, x *ast.Term) (*ast.Term, error) {
	return doubleToInteger(x.Value)
}

func fromStringBuiltin(_ rego.BuiltinContext, t, s *ast.Term) (*ast.Term, error) {
	dt, err := typeArg(t)
	if err != nil {
		return nil, err
	}
	str, err := stringArg("s", s)
	if err != nil {
		return nil, err
	}
	v, err := valueOf(dt, str)
	if err != nil {
		return nil, err
	}
	return ast.NewTerm(v), nil
}

func toStringBuiltin(_ rego.BuiltinContext, t, v *ast.Term) (*ast.Term, error) {
	dt, err := typeArg(t)
	if err != nil {
		return nil, err
	}
	s, err := canonicalString(dt, v.Value)
	if err != nil {
		return nil, err
	}
	return ast.StringTerm(s), nil
}

func substringBuiltin(_ rego.BuiltinContext, s, begin, end *ast.Term) (*ast.Term, error) {
	str, err := stringArg("s", s)
	if err != nil {
		return nil, err
	}
	out, err := substring(str, begin.Value, end.Value)
	if err != nil {
		return nil, err
	}
	return ast.StringTerm(out), nil
}

func (l *library) timeInRangeBuiltin(_ rego.BuiltinContext, v, lo, hi *ast.Term) (*ast.Term, error) {
	vs, err := stringArg("v", v)
	if err != nil {
		return nil, err
	}
	los, err := stringArg("lo", lo)
	if err != nil {
		return nil, err
	}
	his, err := stringArg("hi", hi)
	if err != nil {
		return nil, err
	}
	return boolTerm(l.timeInRange(vs, los, his))
}

func dateAddBuiltin(_ rego.BuiltinContext, terms []*ast.Term) (*ast.Term, error) {
	if len(terms) < 5 {
		return nil, fmt.Errorf("%w: date_add takes 5 arguments", ErrType)
	}
	t, err := typeArg(terms[0])
	if err != nil {
		return nil, err
	}
	dt, err := typeArg(terms[1])
	if err != nil {
		return nil, err
	}
	v, err := stringArg("v", terms[2])
	if err != nil {
		return nil, err
	}
	dur, err := stringArg("dur", terms[3])
	if err != nil {
		return nil, err
	}
	sign, sb, err := integerOf(terms[4].Value)
	if err != nil {
		return nil, err
	}
	if sb != nil {
		return nil, fmt.Errorf("%w: sign must be 1 or -1", ErrRange)
	}
	out, err := addDuration(t, dt, v, dur, int(sign))
	if err != nil {
		return nil, err
	}
	return ast.StringTerm(out), nil
}

func (l *library) regexpMatchBuiltin(_ rego.BuiltinContext, t, pattern, v *ast.Term) (*ast.Term, error) {
	dt, err := typeArg(t)
	if err != nil {
		return nil, err
	}
	switch dt {
	case tString, tAnyURI, tIPAddress, tDNSName, tRFC822Name, tX500Name:
	default:
		return nil, fmt.Errorf("%w: XACML defines no regexp-match for %s", ErrUnsupported, dt)
	}
	p, err := stringArg("pattern", pattern)
	if err != nil {
		return nil, err
	}
	s, err := stringArg("v", v)
	if err != nil {
		return nil, err
	}
	re, err := l.regexps.get(p)
	if err != nil {
		return nil, err
	}
	return ast.InternedTerm(re.MatchString(s)), nil
}

func x500MatchBuiltin(_ rego.BuiltinContext, a, b *ast.Term) (*ast.Term, error) {
	x, err := stringArg("a", a)
	if err != nil {
		return nil, err
	}
	y, err := stringArg("b", b)
	if err != nil {
		return nil, err
	}
	return boolTerm(matchX500(x, y))
}

func rfc822MatchBuiltin(_ rego.BuiltinContext, pattern, name *ast.Term) (*ast.Term, error) {
	p, err := stringArg("pattern", pattern)
	if err != nil {
		return nil, err
	}
	n, err := stringArg("name", name)
	if err != nil {
		return nil, err
	}
	return boolTerm(matchRFC822(p, n))
}
