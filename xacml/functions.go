package xacml

import "strings"

// Function identifier prefixes.
const (
	fn1 = "urn:oasis:names:tc:xacml:1.0:function:"
	fn2 = "urn:oasis:names:tc:xacml:2.0:function:"
	fn3 = "urn:oasis:names:tc:xacml:3.0:function:"
)

// Type is the static type of an expression: a primitive data type, or a bag
// of one. Function-typed arguments (for higher-order functions) use Func.
type Type struct {
	DataType string
	Bag      bool
	// Func is set for a FunctionRef argument.
	Func *FunctionInfo
}

func (t Type) String() string {
	if t.Func != nil {
		return "function " + t.Func.ID
	}
	if t.Bag {
		return "bag of " + ShortTypeName(t.DataType)
	}
	return ShortTypeName(t.DataType)
}

// Op names the semantic operation of a function independently of its
// identifier, so that the compiler and the type checker can treat a family
// (string-equal, integer-equal, ...) uniformly.
type Op string

// The operations of the standard function set.
const (
	OpEqual            Op = "equal"
	OpEqualIgnoreCase  Op = "equal-ignore-case"
	OpAdd              Op = "add"
	OpSubtract         Op = "subtract"
	OpMultiply         Op = "multiply"
	OpDivide           Op = "divide"
	OpMod              Op = "mod"
	OpAbs              Op = "abs"
	OpRound            Op = "round"
	OpFloor            Op = "floor"
	OpNormalizeSpace   Op = "normalize-space"
	OpLowerCase        Op = "normalize-to-lower-case"
	OpDoubleToInteger  Op = "double-to-integer"
	OpIntegerToDouble  Op = "integer-to-double"
	OpOr               Op = "or"
	OpAnd              Op = "and"
	OpNOf              Op = "n-of"
	OpNot              Op = "not"
	OpGreaterThan      Op = "greater-than"
	OpGreaterOrEqual   Op = "greater-than-or-equal"
	OpLessThan         Op = "less-than"
	OpLessOrEqual      Op = "less-than-or-equal"
	OpTimeInRange      Op = "time-in-range"
	OpAddDuration      Op = "add-duration"
	OpSubtractDuration Op = "subtract-duration"
	OpConcatenate      Op = "concatenate"
	OpFromString       Op = "from-string"
	OpToString         Op = "to-string"
	OpStartsWith       Op = "starts-with"
	OpEndsWith         Op = "ends-with"
	OpContains         Op = "contains"
	OpSubstring        Op = "substring"
	OpOneAndOnly       Op = "one-and-only"
	OpBagSize          Op = "bag-size"
	OpIsIn             Op = "is-in"
	OpBag              Op = "bag"
	OpIntersection     Op = "intersection"
	OpAtLeastOneMember Op = "at-least-one-member-of"
	OpUnion            Op = "union"
	OpSubset           Op = "subset"
	OpSetEquals        Op = "set-equals"
	OpAnyOf            Op = "any-of"
	OpAllOf            Op = "all-of"
	OpAnyOfAny         Op = "any-of-any"
	OpAllOfAny         Op = "all-of-any"
	OpAnyOfAll         Op = "any-of-all"
	OpAllOfAll         Op = "all-of-all"
	OpMap              Op = "map"
	OpRegexpMatch      Op = "regexp-match"
	OpX500NameMatch    Op = "x500Name-match"
	OpRFC822NameMatch  Op = "rfc822Name-match"
	OpURIStringConcat  Op = "uri-string-concatenate"
)

// FunctionInfo is the signature and meaning of one standard function.
type FunctionInfo struct {
	ID string
	Op Op
	// DataType is the primitive type the operation works on (the "type" in
	// "type-equal"); for conversions it is the non-string side.
	DataType string
	// Params are the fixed parameters; Variadic, when set, may repeat
	// after them, at least MinVariadic times.
	Params      []Type
	Variadic    *Type
	MinVariadic int
	Return      Type
	// HigherOrder functions take a FunctionRef first and are type-checked specially.
	HigherOrder bool
	// Legacy marks XACML 1.0 forms kept for compatibility (any-of with exactly three arguments).
	Legacy bool
	// Duration is the duration type for date arithmetic.
	Duration string
}

// Registry resolves function identifiers. It is immutable once built, so one
// instance can be shared by any number of goroutines.
type Registry struct {
	byID map[string]*FunctionInfo
}

// Lookup returns the function with the given identifier.
func (r *Registry) Lookup(id string) (*FunctionInfo, bool) {
	f, ok := r.byID[id]
	return f, ok
}

// Len returns the number of functions known.
func (r *Registry) Len() int { return len(r.byID) }

// StandardFunctions builds the registry of the XACML 3.0 standard function
// set (Appendix A.3), plus the legacy identifiers 3.0 still recognises.
// XPath functions are an optional feature Verdict does not implement.
func StandardFunctions() *Registry {
	r := &Registry{byID: map[string]*FunctionInfo{}}
	add := func(f *FunctionInfo) { r.byID[f.ID] = f }
	p := func(dt string) Type { return Type{DataType: dt} }
	bag := func(dt string) Type { return Type{DataType: dt, Bag: true} }
	boolT := p(TypeBoolean)

	// A.3.1 equality predicates.
	for _, dt := range []string{TypeString, TypeBoolean, TypeInteger, TypeDouble, TypeDate, TypeTime, TypeDateTime,
		TypeAnyURI, TypeX500Name, TypeRFC822Name, TypeHexBinary, TypeBase64Binary} {
		add(&FunctionInfo{ID: fn1 + ShortTypeName(dt) + "-equal", Op: OpEqual, DataType: dt, Params: []Type{p(dt), p(dt)}, Return: boolT})
	}
	for _, dt := range []string{TypeDayTimeDuration, TypeYearMonthDuration} {
		add(&FunctionInfo{ID: fn3 + ShortTypeName(dt) + "-equal", Op: OpEqual, DataType: dt, Params: []Type{p(dt), p(dt)}, Return: boolT})
		add(&FunctionInfo{ID: fn1 + ShortTypeName(dt) + "-equal", Op: OpEqual, DataType: dt, Params: []Type{p(dt), p(dt)}, Return: boolT, Legacy: true})
	}
	add(&FunctionInfo{ID: fn3 + "string-equal-ignore-case", Op: OpEqualIgnoreCase, DataType: TypeString, Params: []Type{p(TypeString), p(TypeString)}, Return: boolT})

	// A.3.2 arithmetic.
	for _, dt := range []string{TypeInteger, TypeDouble} {
		s := ShortTypeName(dt)
		v := p(dt)
		add(&FunctionInfo{ID: fn1 + s + "-add", Op: OpAdd, DataType: dt, Params: []Type{v, v}, Variadic: &v, Return: v})
		add(&FunctionInfo{ID: fn1 + s + "-multiply", Op: OpMultiply, DataType: dt, Params: []Type{v, v}, Variadic: &v, Return: v})
		add(&FunctionInfo{ID: fn1 + s + "-subtract", Op: OpSubtract, DataType: dt, Params: []Type{v, v}, Return: v})
		add(&FunctionInfo{ID: fn1 + s + "-divide", Op: OpDivide, DataType: dt, Params: []Type{v, v}, Return: v})
		add(&FunctionInfo{ID: fn1 + s + "-abs", Op: OpAbs, DataType: dt, Params: []Type{v}, Return: v})
	}
	add(&FunctionInfo{ID: fn1 + "integer-mod", Op: OpMod, DataType: TypeInteger, Params: []Type{p(TypeInteger), p(TypeInteger)}, Return: p(TypeInteger)})
	add(&FunctionInfo{ID: fn1 + "round", Op: OpRound, DataType: TypeDouble, Params: []Type{p(TypeDouble)}, Return: p(TypeDouble)})
	add(&FunctionInfo{ID: fn1 + "floor", Op: OpFloor, DataType: TypeDouble, Params: []Type{p(TypeDouble)}, Return: p(TypeDouble)})

	// A.3.3 string conversion, A.3.4 numeric conversion.
	add(&FunctionInfo{ID: fn1 + "string-normalize-space", Op: OpNormalizeSpace, DataType: TypeString, Params: []Type{p(TypeString)}, Return: p(TypeString)})
	add(&FunctionInfo{ID: fn1 + "string-normalize-to-lower-case", Op: OpLowerCase, DataType: TypeString, Params: []Type{p(TypeString)}, Return: p(TypeString)})
	add(&FunctionInfo{ID: fn1 + "double-to-integer", Op: OpDoubleToInteger, DataType: TypeDouble, Params: []Type{p(TypeDouble)}, Return: p(TypeInteger)})
	add(&FunctionInfo{ID: fn1 + "integer-to-double", Op: OpIntegerToDouble, DataType: TypeInteger, Params: []Type{p(TypeInteger)}, Return: p(TypeDouble)})

	// A.3.5 logical functions.
	add(&FunctionInfo{ID: fn1 + "or", Op: OpOr, DataType: TypeBoolean, Variadic: &boolT, Return: boolT})
	add(&FunctionInfo{ID: fn1 + "and", Op: OpAnd, DataType: TypeBoolean, Variadic: &boolT, Return: boolT})
	add(&FunctionInfo{ID: fn1 + "n-of", Op: OpNOf, DataType: TypeBoolean, Params: []Type{p(TypeInteger)}, Variadic: &boolT, Return: boolT})
	add(&FunctionInfo{ID: fn1 + "not", Op: OpNot, DataType: TypeBoolean, Params: []Type{boolT}, Return: boolT})

	// A.3.6 numeric and A.3.8 non-numeric comparison.
	cmps := []struct {
		suffix string
		op     Op
	}{{"greater-than", OpGreaterThan}, {"greater-than-or-equal", OpGreaterOrEqual}, {"less-than", OpLessThan}, {"less-than-or-equal", OpLessOrEqual}}
	for _, dt := range []string{TypeInteger, TypeDouble, TypeString, TypeTime, TypeDateTime, TypeDate} {
		for _, c := range cmps {
			add(&FunctionInfo{ID: fn1 + ShortTypeName(dt) + "-" + c.suffix, Op: c.op, DataType: dt, Params: []Type{p(dt), p(dt)}, Return: boolT})
		}
	}
	add(&FunctionInfo{ID: fn2 + "time-in-range", Op: OpTimeInRange, DataType: TypeTime, Params: []Type{p(TypeTime), p(TypeTime), p(TypeTime)}, Return: boolT})

	// A.3.7 date and time arithmetic (3.0 identifiers and the 1.0 legacy ones).
	arith := []struct {
		name string
		op   Op
		dt   string
		dur  string
	}{
		{"dateTime-add-dayTimeDuration", OpAddDuration, TypeDateTime, TypeDayTimeDuration},
		{"dateTime-add-yearMonthDuration", OpAddDuration, TypeDateTime, TypeYearMonthDuration},
		{"dateTime-subtract-dayTimeDuration", OpSubtractDuration, TypeDateTime, TypeDayTimeDuration},
		{"dateTime-subtract-yearMonthDuration", OpSubtractDuration, TypeDateTime, TypeYearMonthDuration},
		{"date-add-yearMonthDuration", OpAddDuration, TypeDate, TypeYearMonthDuration},
		{"date-subtract-yearMonthDuration", OpSubtractDuration, TypeDate, TypeYearMonthDuration},
	}
	for _, a := range arith {
		for i, prefix := range []string{fn3, fn1} {
			add(&FunctionInfo{ID: prefix + a.name, Op: a.op, DataType: a.dt, Duration: a.dur, Params: []Type{p(a.dt), p(a.dur)}, Return: p(a.dt), Legacy: i == 1})
		}
	}

	// A.3.9 string functions.
	str := p(TypeString)
	add(&FunctionInfo{ID: fn2 + "string-concatenate", Op: OpConcatenate, DataType: TypeString, Params: []Type{str, str}, Variadic: &str, Return: str})
	add(&FunctionInfo{ID: fn2 + "uri-string-concatenate", Op: OpURIStringConcat, DataType: TypeAnyURI, Params: []Type{p(TypeAnyURI), str}, Variadic: &str, Return: p(TypeAnyURI), Legacy: true})
	for _, dt := range []string{TypeBoolean, TypeInteger, TypeDouble, TypeTime, TypeDate, TypeDateTime, TypeAnyURI,
		TypeDayTimeDuration, TypeYearMonthDuration, TypeX500Name, TypeRFC822Name, TypeIPAddress, TypeDNSName} {
		s := ShortTypeName(dt)
		add(&FunctionInfo{ID: fn3 + s + "-from-string", Op: OpFromString, DataType: dt, Params: []Type{str}, Return: p(dt)})
		add(&FunctionInfo{ID: fn3 + "string-from-" + s, Op: OpToString, DataType: dt, Params: []Type{p(dt)}, Return: str})
	}
	for _, dt := range []string{TypeString, TypeAnyURI} {
		s := ShortTypeName(dt)
		add(&FunctionInfo{ID: fn3 + s + "-starts-with", Op: OpStartsWith, DataType: dt, Params: []Type{str, p(dt)}, Return: boolT})
		add(&FunctionInfo{ID: fn3 + s + "-ends-with", Op: OpEndsWith, DataType: dt, Params: []Type{str, p(dt)}, Return: boolT})
		add(&FunctionInfo{ID: fn3 + s + "-contains", Op: OpContains, DataType: dt, Params: []Type{str, p(dt)}, Return: boolT})
		add(&FunctionInfo{ID: fn3 + s + "-substring", Op: OpSubstring, DataType: dt, Params: []Type{p(dt), p(TypeInteger), p(TypeInteger)}, Return: str})
	}

	// A.3.10 bag functions and A.3.11 set functions.
	for _, info := range dataTypes {
		dt := info.ID
		prefix := fn1
		switch dt {
		case TypeDayTimeDuration, TypeYearMonthDuration:
			prefix = fn3
		case TypeIPAddress, TypeDNSName:
			prefix = fn2
		}
		s := info.Short
		add(&FunctionInfo{ID: prefix + s + "-one-and-only", Op: OpOneAndOnly, DataType: dt, Params: []Type{bag(dt)}, Return: p(dt)})
		add(&FunctionInfo{ID: prefix + s + "-bag-size", Op: OpBagSize, DataType: dt, Params: []Type{bag(dt)}, Return: p(TypeInteger)})
		v := p(dt)
		add(&FunctionInfo{ID: prefix + s + "-bag", Op: OpBag, DataType: dt, Variadic: &v, Return: bag(dt)})
		if dt == TypeIPAddress || dt == TypeDNSName {
			// These types have no equality function, so no membership or set functions.
			continue
		}
		add(&FunctionInfo{ID: prefix + s + "-is-in", Op: OpIsIn, DataType: dt, Params: []Type{v, bag(dt)}, Return: boolT})
		add(&FunctionInfo{ID: prefix + s + "-intersection", Op: OpIntersection, DataType: dt, Params: []Type{bag(dt), bag(dt)}, Return: bag(dt)})
		add(&FunctionInfo{ID: prefix + s + "-at-least-one-member-of", Op: OpAtLeastOneMember, DataType: dt, Params: []Type{bag(dt), bag(dt)}, Return: boolT})
		b := bag(dt)
		add(&FunctionInfo{ID: prefix + s + "-union", Op: OpUnion, DataType: dt, Params: []Type{b, b}, Variadic: &b, Return: bag(dt)})
		add(&FunctionInfo{ID: prefix + s + "-subset", Op: OpSubset, DataType: dt, Params: []Type{bag(dt), bag(dt)}, Return: boolT})
		add(&FunctionInfo{ID: prefix + s + "-set-equals", Op: OpSetEquals, DataType: dt, Params: []Type{bag(dt), bag(dt)}, Return: boolT})
	}

	// A.3.12 higher-order bag functions: 3.0 forms and 1.0 legacy forms.
	for _, op := range []Op{OpAnyOf, OpAllOf, OpAnyOfAny, OpAllOfAny, OpAnyOfAll, OpAllOfAll, OpMap} {
		add(&FunctionInfo{ID: fn3 + string(op), Op: op, HigherOrder: true})
		add(&FunctionInfo{ID: fn1 + string(op), Op: op, HigherOrder: true, Legacy: true})
	}

	// A.3.13 regular-expression functions.
	add(&FunctionInfo{ID: fn1 + "string-regexp-match", Op: OpRegexpMatch, DataType: TypeString, Params: []Type{str, str}, Return: boolT})
	for _, dt := range []string{TypeAnyURI, TypeIPAddress, TypeDNSName, TypeRFC822Name, TypeX500Name} {
		add(&FunctionInfo{ID: fn2 + ShortTypeName(dt) + "-regexp-match", Op: OpRegexpMatch, DataType: dt, Params: []Type{str, p(dt)}, Return: boolT})
	}

	// A.3.14 special match functions.
	add(&FunctionInfo{ID: fn1 + "x500Name-match", Op: OpX500NameMatch, DataType: TypeX500Name, Params: []Type{p(TypeX500Name), p(TypeX500Name)}, Return: boolT})
	add(&FunctionInfo{ID: fn1 + "rfc822Name-match", Op: OpRFC822NameMatch, DataType: TypeRFC822Name, Params: []Type{str, p(TypeRFC822Name)}, Return: boolT})
	return r
}

// ShortFunctionName strips the standard prefix from a function identifier
// ("urn:oasis:names:tc:xacml:1.0:function:string-equal" → "string-equal"),
// which the YAML form uses.
func ShortFunctionName(id string) string {
	for _, p := range []string{fn3, fn2, fn1} {
		if s, ok := strings.CutPrefix(id, p); ok {
			return s
		}
	}
	return id
}
