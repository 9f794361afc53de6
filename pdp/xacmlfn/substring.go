package xacmlfn

import (
	"fmt"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
)

// substring is XACML 3.0 string-substring and anyURI-substring: the
// characters (code points, not bytes) from begin, counted from zero, up to
// but excluding end; end -1 means the end of the string. An index out of
// bounds, or end before begin, is Indeterminate (processing-error).
func substring(s string, beginV, endV ast.Value) (string, error) {
	begin, bb, err := integerOf(beginV)
	if err != nil {
		return "", err
	}
	end, eb, err := integerOf(endV)
	if err != nil {
		return "", err
	}
	if bb != nil || eb != nil {
		return "", fmt.Errorf("%w: substring index too large", ErrRange)
	}
	n := int64(utf8.RuneCountInString(s))
	endArg := end
	if end == -1 {
		end = n
	}
	if begin < 0 || begin > n || end < begin || end > n {
		return "", fmt.Errorf("%w: substring(%d, %d) of a %d-character string", ErrRange, begin, endArg, n)
	}
	if n == int64(len(s)) { // ASCII: characters are bytes
		return s[begin:end], nil
	}
	start, stop := -1, len(s)
	var i int64
	for off := range s {
		if i == begin {
			start = off
		}
		if i == end {
			stop = off
			break
		}
		i++
	}
	if start < 0 {
		start = len(s)
	}
	return s[start:stop], nil
}
