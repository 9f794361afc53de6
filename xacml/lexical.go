package xacml

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// NormalizeValue applies the whitespace processing of a value's data type
// to the text written in a policy or request, so that the model keeps the
// lexical form the value actually has. XACML values are of XML Schema types:
// xs:string preserves whitespace ("   This  is IT!  " stays as written),
// every other XML Schema type collapses it (trim, and runs of whitespace
// become one space); the XACML-defined types (x500Name, rfc822Name,
// ipAddress, dnsName) have their surrounding whitespace trimmed. Unknown
// types are left untouched for validation to report. dataType must be
// canonical.
func NormalizeValue(dataType, text string) string {
	switch dataType {
	case TypeString:
		return text
	case TypeBoolean, TypeInteger, TypeDouble, TypeTime, TypeDate, TypeDateTime, TypeAnyURI,
		TypeHexBinary, TypeBase64Binary, TypeDayTimeDuration, TypeYearMonthDuration:
		return collapseWhitespace(text)
	case TypeX500Name, TypeRFC822Name, TypeIPAddress, TypeDNSName:
		return strings.Trim(text, xmlSpace)
	}
	return text
}

// xmlSpace is the XML whitespace set (XML 1.0 production S).
const xmlSpace = " \t\r\n"

func collapseWhitespace(s string) string {
	if !strings.ContainsAny(s, xmlSpace) {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(xmlSpace, r) }), " ")
}

// CheckLexical reports whether value is a valid lexical form of the
// (canonical) data type, so that a malformed literal is refused when the
// policy is loaded instead of making every evaluation Indeterminate. The
// PDP can use it on request values too.
func CheckLexical(dataType, value string) error {
	var ok bool
	switch dataType {
	case TypeString:
		return nil
	case TypeBoolean:
		ok = value == "true" || value == "false" || value == "1" || value == "0"
	case TypeInteger:
		ok = isInteger(value)
	case TypeDouble:
		ok = isDouble(value)
	case TypeDate:
		ok = isDate(value)
	case TypeTime:
		ok = isTime(value)
	case TypeDateTime:
		ok = isDateTime(value)
	case TypeDayTimeDuration:
		ok = isDayTimeDuration(value)
	case TypeYearMonthDuration:
		ok = isYearMonthDuration(value)
	case TypeAnyURI:
		ok = !strings.ContainsFunc(value, func(r rune) bool { return r < 0x20 || r == 0x7f })
	case TypeHexBinary:
		ok = isHexBinary(value)
	case TypeBase64Binary:
		ok = isBase64Binary(value)
	case TypeRFC822Name:
		ok = isRFC822Name(value)
	case TypeX500Name:
		ok = isX500Name(value)
	case TypeIPAddress:
		ok = isIPAddress(value)
	case TypeDNSName:
		ok = isDNSName(value)
	default:
		return fmt.Errorf("%w %q", ErrUnknownDataType, dataType)
	}
	if !ok {
		return fmt.Errorf("%w: %q is not a valid %s", ErrInvalidValue, value, ShortTypeName(dataType))
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digits returns the length of the run of ASCII digits at the start of s.
func digits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// isInteger accepts xs:integer: an optional sign and at least one digit.
func isInteger(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return s != "" && digits(s) == len(s)
}

// isDouble accepts xs:double: a decimal with an optional exponent, or one
// of INF, +INF, -INF, NaN.
func isDouble(s string) bool {
	switch s {
	case "INF", "+INF", "-INF", "NaN":
		return true
	}
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	intPart := digits(s)
	s = s[intPart:]
	fracPart := 0
	if s != "" && s[0] == '.' {
		fracPart = digits(s[1:])
		s = s[1+fracPart:]
	}
	if intPart+fracPart == 0 {
		return false
	}
	if s == "" {
		return true
	}
	if s[0] != 'e' && s[0] != 'E' {
		return false
	}
	return isInteger(s[1:])
}

func isHexBinary(s string) bool {
	if len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// isBase64Binary accepts xs:base64Binary, where single spaces may separate
// the characters; encoding/base64 would also skip CR and LF, which the
// collapsed lexical form cannot contain, so they are refused first.
func isBase64Binary(s string) bool {
	if strings.ContainsAny(s, "\r\n\t") {
		return false
	}
	_, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(s, " ", ""))
	return err == nil
}
