package xacmlfn

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// The special xs:double values have no JSON number form, so they travel in
// Rego as these strings.
const (
	doubleInf    = "INF"
	doubleNegInf = "-INF"
	doubleNaN    = "NaN"
)

// parseIntegerLexical validates the xs:integer lexical form
// ('+'|'-')? [0-9]+ and returns its canonical decimal form: no '+', no
// leading zeros, "0" for negative zero. Integers are unbounded in XML Schema,
// so the digits are kept as text rather than parsed into a machine integer.
func parseIntegerLexical(s string) (string, error) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start || i != len(s) {
		return "", fmt.Errorf("%w: %q is not a valid integer", ErrSyntax, s)
	}
	digits := strings.TrimLeft(s[start:], "0")
	if digits == "" {
		return "0", nil
	}
	if neg {
		return "-" + digits, nil
	}
	if start == 0 && len(digits) == len(s) {
		return s, nil
	}
	return digits, nil
}

// doubleLexical is a validated xs:double: either a special value or a finite
// number, with the text to use as an ast.Number.
type doubleLexical struct {
	special string // doubleInf, doubleNegInf, doubleNaN or ""
	number  string // JSON number text when special is ""
}

// parseDoubleLexical validates the xs:double lexical form. A valid JSON
// number keeps its text, so that "27.50" prints back as given; other forms
// (".5", "+1", "007", "5.") are rewritten as the JSON number with the same
// digits. A magnitude too large for a double becomes INF or -INF, as XML
// Schema rounds it.
func parseDoubleLexical(s string) (doubleLexical, error) {
	switch s {
	case doubleInf, "+INF":
		return doubleLexical{special: doubleInf}, nil
	case doubleNegInf:
		return doubleLexical{special: doubleNegInf}, nil
	case doubleNaN:
		return doubleLexical{special: doubleNaN}, nil
	}
	bad := func() (doubleLexical, error) {
		return doubleLexical{}, fmt.Errorf("%w: %q is not a valid double", ErrSyntax, s)
	}
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intDigits := s[intStart:i]
	fracDigits := ""
	hasPoint := false
	if i < len(s) && s[i] == '.' {
		hasPoint = true
		i++
		fracStart := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		fracDigits = s[fracStart:i]
	}
	if intDigits == "" && fracDigits == "" {
		return bad()
	}
	exp := ""
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		expStart := i
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		digitsStart := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == digitsStart {
			return bad()
		}
		exp = s[expStart:i]
	}
	if i != len(s) {
		return bad()
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return bad()
	}
	if math.IsInf(f, 1) {
		return doubleLexical{special: doubleInf}, nil
	}
	if math.IsInf(f, -1) {
		return doubleLexical{special: doubleNegInf}, nil
	}
	if isJSONNumber(s) {
		return doubleLexical{number: s}, nil
	}
	// Rebuild as a JSON number with the same digits.
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	intDigits = strings.TrimLeft(intDigits, "0")
	if intDigits == "" {
		intDigits = "0"
	}
	b.WriteString(intDigits)
	if hasPoint {
		if fracDigits == "" {
			fracDigits = "0"
		}
		b.WriteByte('.')
		b.WriteString(fracDigits)
	}
	b.WriteString(exp)
	return doubleLexical{number: b.String()}, nil
}

// isJSONNumber reports whether s has the JSON number syntax
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, which is what ast.Number
// must hold.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) {
		return false
	}
	if s[i] == '0' {
		i++
	} else if s[i] >= '1' && s[i] <= '9' {
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	} else {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// doubleOf reads an xs:double Rego value: a number, or one of the strings
// INF, -INF, NaN.
func doubleOf(v ast.Value) (float64, error) {
	switch x := v.(type) {
	case ast.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !math.IsInf(f, 0) {
			return 0, fmt.Errorf("%w: %s is not a double", ErrType, x)
		}
		return f, nil
	case ast.String:
		switch string(x) {
		case doubleInf:
			return math.Inf(1), nil
		case doubleNegInf:
			return math.Inf(-1), nil
		case doubleNaN:
			return math.NaN(), nil
		}
	}
	return 0, typeError(tDouble, v)
}

// doubleTerm converts a float64 result back to the Rego representation.
func doubleTerm(f float64) *ast.Term {
	switch {
	case math.IsNaN(f):
		return ast.StringTerm(doubleNaN)
	case math.IsInf(f, 1):
		return ast.StringTerm(doubleInf)
	case math.IsInf(f, -1):
		return ast.StringTerm(doubleNegInf)
	}
	return ast.NewTerm(ast.Number(strconv.FormatFloat(f, 'g', -1, 64)))
}

// canonicalDouble prints f in the XML Schema 1.0 canonical form for double
// (3.2.5.2): a mantissa with one non-zero digit before the point and at
// least one after it, and an 'E' exponent without '+' or leading zeros;
// zero is 0.0E0.
func canonicalDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return doubleNaN
	case math.IsInf(f, 1):
		return doubleInf
	case math.IsInf(f, -1):
		return doubleNegInf
	case f == 0:
		if math.Signbit(f) {
			return "-0.0E0"
		}
		return "0.0E0"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // e.g. -2.75e+01
	mant, exp, _ := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

// integerOf reads an xs:integer Rego value as a big.Int when it does not fit
// int64; small is valid when big is nil. Any number with an integral value is
// accepted, so that "7.0" produced by Rego arithmetic still counts.
func integerOf(v ast.Value) (small int64, bigv *big.Int, err error) {
	n, ok := v.(ast.Number)
	if !ok {
		return 0, nil, typeError(tInteger, v)
	}
	if i, ok := n.Int64(); ok {
		return i, nil, nil
	}
	if b, ok := new(big.Int).SetString(string(n), 10); ok {
		return 0, b, nil
	}
	f, _, err2 := big.ParseFloat(string(n), 10, 0, big.ToNearestEven)
	if err2 != nil || !f.IsInt() {
		return 0, nil, fmt.Errorf("%w: %s is not an integer", ErrType, n)
	}
	b, _ := f.Int(nil)
	if b.IsInt64() {
		return b.Int64(), nil, nil
	}
	return 0, b, nil
}

func bigOf(small int64, b *big.Int) *big.Int {
	if b != nil {
		return b
	}
	return big.NewInt(small)
}

// integerDivide is XACML integer-divide: the quotient truncated toward zero
// (as XPath op:numeric-integer-divide), Indeterminate on a zero divisor.
func integerDivide(a, b ast.Value) (*ast.Term, error) {
	x, xb, err := integerOf(a)
	if err != nil {
		return nil, err
	}
	y, yb, err := integerOf(b)
	if err != nil {
		return nil, err
	}
	if yb == nil && y == 0 {
		return nil, fmt.Errorf("%w: integer division by zero", ErrRange)
	}
	if xb == nil && yb == nil && (x != math.MinInt64 || y != -1) {
		return ast.InternedTerm(x / y), nil
	}
	q := new(big.Int).Quo(bigOf(x, xb), bigOf(y, yb))
	return ast.NewTerm(ast.Number(q.String())), nil
}

// integerMod is XACML integer-mod: the remainder of the truncated division,
// which has the sign of the dividend (XPath op:numeric-mod), Indeterminate on
// a zero divisor.
func integerMod(a, b ast.Value) (*ast.Term, error) {
	x, xb, err := integerOf(a)
	if err != nil {
		return nil, err
	}
	y, yb, err := integerOf(b)
	if err != nil {
		return nil, err
	}
	if yb == nil && y == 0 {
		return nil, fmt.Errorf("%w: integer modulo by zero", ErrRange)
	}
	if xb == nil && yb == nil {
		if y == -1 {
			return ast.InternedTerm(0), nil
		}
		return ast.InternedTerm(x % y), nil
	}
	r := new(big.Int).Rem(bigOf(x, xb), bigOf(y, yb))
	return ast.NewTerm(ast.Number(r.String())), nil
}

// roundDouble is XACML round. XACML requires double functions to follow
// IEEE 754, whose default rounding to an integral value breaks ties to the
// even neighbour (2.5 rounds to 2, 3.5 to 4, -2.5 to -2); INF, -INF and NaN
// round to themselves.
func roundDouble(v ast.Value) (*ast.Term, error) {
	if n, ok := v.(ast.Number); ok {
		if _, isInt := n.Int64(); isInt {
			return ast.NewTerm(n), nil
		}
	}
	f, err := doubleOf(v)
	if err != nil {
		return nil, err
	}
	return doubleTerm(math.RoundToEven(f)), nil
}

// doubleToInteger is XACML double-to-integer: the value truncated toward
// zero. INF, -INF and NaN have no integer value.
func doubleToInteger(v ast.Value) (*ast.Term, error) {
	if n, ok := v.(ast.Number); ok {
		if i, isInt := n.Int64(); isInt {
			return ast.InternedTerm(i), nil
		}
	}
	f, err := doubleOf(v)
	if err != nil {
		return nil, err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%w: %s has no integer value", ErrRange, v)
	}
	f = math.Trunc(f)
	if f >= -(1<<62) && f <= 1<<62 {
		return ast.InternedTerm(int64(f)), nil
	}
	b, _ := big.NewFloat(f).Int(nil)
	return ast.NewTerm(ast.Number(b.String())), nil
}

// compareDoubles orders two xs:double values: -INF is below every number and
// INF above; NaN is unordered, so comparing it is an error.
func compareDoubles(a, b ast.Value) (int, error) {
	x, err := doubleOf(a)
	if err != nil {
		return 0, err
	}
	y, err := doubleOf(b)
	if err != nil {
		return 0, err
	}
	switch {
	case math.IsNaN(x) || math.IsNaN(y):
		return 0, fmt.Errorf("%w: NaN has no order", ErrIncomparable)
	case x < y:
		return -1, nil
	case x > y:
		return 1, nil
	}
	return 0, nil
}

// equalDoubles is XACML double-equal. Numbers compare as IEEE 754 doubles
// (0 equals -0). NaN equals NaN: XML Schema 1.0 value-space equality, which
// the XACML conformance suite expects (case IIC350), differs here from the
// IEEE 754 comparison predicate.
func equalDoubles(a, b ast.Value) (bool, error) {
	if sa, ok := a.(ast.String); ok {
		if sb, ok := b.(ast.String); ok && sa == sb {
			if _, err := doubleOf(sa); err != nil {
				return false, err
			}
			return true, nil
		}
	}
	x, err := doubleOf(a)
	if err != nil {
		return false, err
	}
	y, err := doubleOf(b)
	if err != nil {
		return false, err
	}
	return x == y, nil
}

// compareIntegers orders two xs:integer values exactly, however large.
func compareIntegers(a, b ast.Value) (int, error) {
	x, xb, err := integerOf(a)
	if err != nil {
		return 0, err
	}
	y, yb, err := integerOf(b)
	if err != nil {
		return 0, err
	}
	if xb == nil && yb == nil {
		return cmpInt64(x, y), nil
	}
	return bigOf(x, xb).Cmp(bigOf(y, yb)), nil
}
