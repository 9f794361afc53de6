package xacmlfn

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// validHex reports whether s is an xs:hexBinary lexical form: an even number
// of hexadecimal digits in either case.
func validHex(s string) bool {
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

func checkHex(s string) error {
	if !validHex(s) {
		return fmt.Errorf("%w: %q is not a valid hexBinary", ErrSyntax, s)
	}
	return nil
}

// equalHex is XACML hexBinary-equal: the octet sequences are equal, which for
// two valid lexical forms is equality ignoring the case of the digits.
func equalHex(a, b string) (bool, error) {
	if err := checkHex(a); err != nil {
		return false, err
	}
	if err := checkHex(b); err != nil {
		return false, err
	}
	return strings.EqualFold(a, b), nil
}

// decodeBase64 decodes an xs:base64Binary lexical form. XML Schema allows
// single spaces between the characters (after whitespace collapsing) and
// requires canonical padding, which Go's strict decoder enforces.
func decodeBase64(s string) ([]byte, error) {
	clean := s
	if strings.IndexByte(s, ' ') >= 0 {
		clean = strings.ReplaceAll(s, " ", "")
		if strings.Contains(s, "  ") || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
			return nil, fmt.Errorf("%w: %q is not a valid base64Binary", ErrSyntax, s)
		}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("%w: %q is not a valid base64Binary: %w", ErrSyntax, s, err)
	}
	return b, nil
}

// equalBase64 is XACML base64Binary-equal: the decoded octets are equal.
func equalBase64(a, b string) (bool, error) {
	if a == b {
		_, err := decodeBase64(a)
		return err == nil, err
	}
	x, err := decodeBase64(a)
	if err != nil {
		return false, err
	}
	y, err := decodeBase64(b)
	if err != nil {
		return false, err
	}
	return string(x) == string(y), nil
}
