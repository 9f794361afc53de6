package xacmlfn

import (
	"fmt"
	"strings"
)

// splitMailbox validates an rfc822Name (local-part '@' domain-part, the
// Mailbox of RFC 2821 that XACML uses) and returns its two parts.
func splitMailbox(s string) (local, domain string, err error) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", "", fmt.Errorf("%w: %q is not a valid rfc822Name: want local-part@domain", ErrSyntax, s)
	}
	local, domain = s[:at], s[at+1:]
	for i := 0; i < len(local); i++ {
		if local[i] <= ' ' || local[i] == 0x7f {
			return "", "", fmt.Errorf("%w: %q is not a valid rfc822Name: control or space character in the local part", ErrSyntax, s)
		}
	}
	if !validMailDomain(domain) {
		return "", "", fmt.Errorf("%w: %q is not a valid rfc822Name: bad domain %q", ErrSyntax, s, domain)
	}
	return local, domain, nil
}

// validMailDomain accepts a dot-separated host name (letters, digits, '-',
// '_') or an address literal in brackets.
func validMailDomain(d string) bool {
	if strings.HasPrefix(d, "[") {
		return len(d) > 2 && strings.HasSuffix(d, "]") && !strings.ContainsAny(d[1:len(d)-1], "[]\\ ")
	}
	return validHostName(d)
}

// validHostName reports whether h is a non-empty sequence of non-empty
// labels of letters, digits, '-' and '_' separated by dots.
func validHostName(h string) bool {
	if h == "" {
		return false
	}
	label := 0
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case isDigit(c), c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_':
			label++
		default:
			return false
		}
	}
	return label > 0
}

// equalRFC822 is XACML rfc822Name-equal: the local parts are equal as
// written and the domain parts are equal ignoring case.
func equalRFC822(a, b string) (bool, error) {
	la, da, err := splitMailbox(a)
	if err != nil {
		return false, err
	}
	lb, db, err := splitMailbox(b)
	if err != nil {
		return false, err
	}
	return la == lb && strings.EqualFold(da, db), nil
}

// rfc822Key is the canonical form used to deduplicate bags: the local part
// and the lower-cased domain.
func rfc822Key(s string) (string, error) {
	local, domain, err := splitMailbox(s)
	if err != nil {
		return "", err
	}
	return local + "@" + strings.ToLower(domain), nil
}

// matchRFC822 is XACML rfc822Name-match (A.3.14). The pattern is either a
// complete mailbox ("Anderson@sun.com": local part exact, domain ignoring
// case), a domain ("sun.com": any mailbox at exactly that domain), or a
// domain with a leading dot (".east.sun.com"). For the last form the
// specification's own examples match both "Anderson@east.sun.com" and
// "anne.anderson@ISRG.EAST.SUN.COM", so the pattern matches the named domain
// and every domain under it; a mere textual suffix such as
// "northeast.sun.com" does not match.
func matchRFC822(pattern, name string) (bool, error) {
	local, domain, err := splitMailbox(name)
	if err != nil {
		return false, err
	}
	switch {
	case pattern == "":
		return false, fmt.Errorf("%w: empty rfc822Name-match pattern", ErrSyntax)
	case strings.IndexByte(pattern, '@') >= 0:
		pl, pd, err := splitMailbox(pattern)
		if err != nil {
			return false, err
		}
		return pl == local && strings.EqualFold(pd, domain), nil
	case pattern[0] == '.':
		sub := pattern[1:]
		if !validHostName(sub) {
			return false, fmt.Errorf("%w: %q is not a valid rfc822Name-match domain pattern", ErrSyntax, pattern)
		}
		if strings.EqualFold(domain, sub) {
			return true, nil
		}
		return len(domain) > len(pattern) && strings.EqualFold(domain[len(domain)-len(pattern):], pattern), nil
	default:
		if !validHostName(pattern) {
			return false, fmt.Errorf("%w: %q is not a valid rfc822Name-match domain pattern", ErrSyntax, pattern)
		}
		return strings.EqualFold(domain, pattern), nil
	}
}
