package xacmlfn

import (
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Value validates the lexical form of a value of short type t and converts
// it to its Rego representation, for the input builder and for literals in
// compiled policies: an integer becomes a number in canonical form ("+007"
// gives 7), a double a number that keeps its text when that is valid JSON
// ("27.50" stays 27.50, ".5" becomes 0.5) or one of the strings "INF",
// "-INF", "NaN", a boolean a Rego boolean ("1" and "0" are accepted, as in
// XML Schema), and every other type a string. As XML Schema prescribes,
// white space around the value is ignored for every type but string. An
// invalid form yields an error wrapping ErrSyntax that names the type and
// the value.
func Value(t, lexical string) (ast.Value, error) {
	dt, err := lookupType(t)
	if err != nil {
		return nil, err
	}
	return valueOf(dt, lexical)
}

func valueOf(dt dtype, s string) (ast.Value, error) {
	switch dt {
	case tString:
		return ast.String(s), nil
	case tAnyURI, tBase64Binary:
		s = collapseSpace(s)
	default:
		s = trimSpace(s)
	}
	switch dt {
	case tBoolean:
		switch s {
		case "true", "1":
			return ast.Boolean(true), nil
		case "false", "0":
			return ast.Boolean(false), nil
		}
		return nil, fmt.Errorf("%w: %q is not a valid boolean", ErrSyntax, s)
	case tInteger:
		n, err := parseIntegerLexical(s)
		if err != nil {
			return nil, err
		}
		return ast.Number(n), nil
	case tDouble:
		d, err := parseDoubleLexical(s)
		if err != nil {
			return nil, err
		}
		if d.special != "" {
			return ast.String(d.special), nil
		}
		return ast.Number(d.number), nil
	}
	if err := checkLexical(dt, s); err != nil {
		return nil, err
	}
	return ast.String(s), nil
}

// checkLexical validates the lexical form of the types held as Rego strings.
func checkLexical(dt dtype, s string) error {
	var err error
	switch dt {
	case tString:
	case tTime, tDate, tDateTime:
		_, err = parseCalendar(dt, s)
	case tDayTimeDuration, tYearMonthDuration:
		_, err = parseDuration(dt, s)
	case tAnyURI:
		err = checkAnyURI(s)
	case tHexBinary:
		err = checkHex(s)
	case tBase64Binary:
		_, err = decodeBase64(s)
	case tX500Name:
		_, err = parseX500(s)
	case tRFC822Name:
		_, _, err = splitMailbox(s)
	case tIPAddress:
		err = checkIPAddress(s)
	case tDNSName:
		err = checkDNSName(s)
	default:
		err = fmt.Errorf("%w: %s is not held as a string", ErrType, dt)
	}
	return err
}

// Lexical prints a Rego value of short type t in its XML lexical form, for
// responses, obligations and advice. Values keep the form they arrived in: a
// double number prints its text as is (27.50 stays "27.50"), strings print
// unchanged; an integer prints in canonical decimal form. A value whose Rego
// kind does not match t, or whose text is not valid for t, is an error.
func Lexical(t string, v ast.Value) (string, error) {
	dt, err := lookupType(t)
	if err != nil {
		return "", err
	}
	return lexicalOf(dt, v)
}

func lexicalOf(dt dtype, v ast.Value) (string, error) {
	switch dt {
	case tBoolean:
		b, ok := v.(ast.Boolean)
		if !ok {
			return "", typeError(dt, v)
		}
		if b {
			return "true", nil
		}
		return "false", nil
	case tInteger:
		small, b, err := integerOf(v)
		if err != nil {
			return "", err
		}
		return bigOf(small, b).String(), nil
	case tDouble:
		switch x := v.(type) {
		case ast.Number:
			if _, err := doubleOf(x); err != nil {
				return "", err
			}
			return string(x), nil
		case ast.String:
			if _, err := doubleOf(x); err != nil {
				return "", err
			}
			return string(x), nil
		}
		return "", typeError(dt, v)
	}
	s, ok := v.(ast.String)
	if !ok {
		return "", typeError(dt, v)
	}
	if err := checkLexical(dt, string(s)); err != nil {
		return "", err
	}
	return string(s), nil
}

// canonicalString is the XACML 3.0 string-from-<type> conversion: the XML
// Schema canonical form for boolean, integer and double, and the form the
// value was originally written in for the other types.
func canonicalString(dt dtype, v ast.Value) (string, error) {
	if dt == tDouble {
		f, err := doubleOf(v)
		if err != nil {
			return "", err
		}
		return canonicalDouble(f), nil
	}
	return lexicalOf(dt, v)
}

// typeError reports a Rego value of the wrong kind for a data type.
func typeError(dt dtype, v ast.Value) error {
	return fmt.Errorf("%w: %s value expected, got %s %v", ErrType, dt, ast.ValueName(v), v)
}

// isXMLSpace reports the XML white space characters (#x20 | #x9 | #xD | #xA).
func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// trimSpace removes leading and trailing XML white space without allocating.
func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isXMLSpace(s[i]) {
		i++
	}
	for j > i && isXMLSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// collapseSpace applies the XML Schema "collapse" white space facet: trim,
// and replace every run of white space by one space.
func collapseSpace(s string) string {
	s = trimSpace(s)
	needs := false
	for i := 0; i < len(s); i++ {
		if isXMLSpace(s[i]) && (s[i] != ' ' || (i+1 < len(s) && isXMLSpace(s[i+1]))) {
			needs = true
			break
		}
	}
	if !needs {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		if isXMLSpace(s[i]) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
