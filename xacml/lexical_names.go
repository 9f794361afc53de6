package xacml

import (
	"net/netip"
	"strconv"
	"strings"
)

// Lexical validators for the XACML-defined name types (XACML 3.0 A.2):
// rfc822Name, x500Name, ipAddress and dnsName.

// isRFC822Name accepts local@domain: a non-empty local part and a domain of
// non-empty dot-separated labels, without whitespace or control characters.
func isRFC822Name(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if strings.ContainsFunc(local, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '@' }) {
		return false
	}
	for label := range strings.SplitSeq(domain, ".") {
		if label == "" {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !isAlnum(c) && c != '-' && c != '_' {
				return false
			}
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

// isX500Name accepts a distinguished name in the string form of RFC 2253
// (with the RFC 1779 leniencies other implementations accept: spaces around
// separators, ';' as a separator, "OID." prefixes).
func isX500Name(s string) bool {
	p := dnParser{s: s}
	p.spaces()
	if p.done() {
		return true // the empty DN
	}
	for {
		if !p.attributeTypeAndValue() {
			return false
		}
		p.spaces()
		if p.done() {
			return true
		}
		switch p.s[p.i] {
		case ',', ';', '+':
			p.i++
			p.spaces()
		default:
			return false
		}
	}
}

// dnParser walks an RFC 2253 distinguished name.
type dnParser struct {
	s string
	i int
}

func (p *dnParser) done() bool { return p.i >= len(p.s) }

func (p *dnParser) spaces() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *dnParser) attributeTypeAndValue() bool {
	start := p.i
	if strings.HasPrefix(strings.ToUpper(p.s[p.i:]), "OID.") {
		p.i += 4
		start = p.i
	}
	switch {
	case p.i < len(p.s) && isDigit(p.s[p.i]):
		// numericoid: digits *("." digits)
		for p.i < len(p.s) && (isDigit(p.s[p.i]) || p.s[p.i] == '.') {
			p.i++
		}
		oid := p.s[start:p.i]
		for part := range strings.SplitSeq(oid, ".") {
			if part == "" {
				return false
			}
		}
	case p.i < len(p.s) && isAlpha(p.s[p.i]):
		for p.i < len(p.s) && (isAlnum(p.s[p.i]) || p.s[p.i] == '-') {
			p.i++
		}
	default:
		return false
	}
	p.spaces()
	if p.done() || p.s[p.i] != '=' {
		return false
	}
	p.i++
	p.spaces()
	return p.value()
}

// value consumes "#hexstring", a quoted string, or a string with RFC 2253
// escapes, up to the next unescaped separator.
func (p *dnParser) value() bool {
	if p.done() {
		return true
	}
	switch p.s[p.i] {
	case '#':
		p.i++
		start := p.i
		for p.i < len(p.s) && strings.IndexByte("0123456789abcdefABCDEF", p.s[p.i]) >= 0 {
			p.i++
		}
		return p.i > start && (p.i-start)%2 == 0
	case '"':
		p.i++
		for p.i < len(p.s) {
			switch p.s[p.i] {
			case '\\':
				if p.i+1 >= len(p.s) {
					return false
				}
				p.i += 2
			case '"':
				p.i++
				return true
			default:
				p.i++
			}
		}
		return false
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return false
			}
			n := p.s[p.i+1]
			if strings.IndexByte(",=+<>#;\\\" ", n) >= 0 {
				p.i += 2
			} else if p.i+2 < len(p.s) && isHexBinary(p.s[p.i+1:p.i+3]) {
				p.i += 3
			} else {
				return false
			}
		case c == ',' || c == ';' || c == '+':
			return true
		case c == '=' || c == '<' || c == '>' || c == '"' || c < 0x20:
			return false
		default:
			p.i++
		}
	}
	return true
}

// isIPAddress accepts the XACML ipAddress syntax:
//
//	ipv4address [ "/" ipv4mask ] [ ":" [ portrange ] ]
//	"[" ipv6address "]" [ "/" "[" ipv6prefix "]" ] [ ":" [ portrange ] ]
//
// where an IPv6 prefix may be written as an address or as a prefix length.
func isIPAddress(s string) bool {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return false
		}
		addr, err := netip.ParseAddr(s[1:end])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return false
		}
		s = s[end+1:]
		if strings.HasPrefix(s, "/[") {
			end = strings.IndexByte(s, ']')
			if end < 0 {
				return false
			}
			prefix := s[2:end]
			if n, err := strconv.Atoi(prefix); err == nil && digits(prefix) == len(prefix) {
				if n > 128 {
					return false
				}
			} else if m, err := netip.ParseAddr(prefix); err != nil || !m.Is6() || m.Zone() != "" {
				return false
			}
			s = s[end+1:]
		}
		return optionalPortRange(s)
	}
	addrPart, rest, hasPort := strings.Cut(s, ":")
	addrPart, mask, hasMask := strings.Cut(addrPart, "/")
	addr, err := netip.ParseAddr(addrPart)
	if err != nil || !addr.Is4() {
		return false
	}
	if hasMask {
		if m, err := netip.ParseAddr(mask); err != nil || !m.Is4() {
			return false
		}
	}
	if hasPort {
		return isPortRange(rest, true)
	}
	return true
}

// optionalPortRange accepts "" or ":" [portrange].
func optionalPortRange(s string) bool {
	if s == "" {
		return true
	}
	if s[0] != ':' {
		return false
	}
	return isPortRange(s[1:], true)
}

// isPortRange accepts "n", "-n", "n-" and "n-m" with ports 0–65535 (and the
// empty string when allowEmpty).
func isPortRange(s string, allowEmpty bool) bool {
	if s == "" {
		return allowEmpty
	}
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		return isPort(lo)
	}
	if lo == "" && hi == "" {
		return false
	}
	if (lo != "" && !isPort(lo)) || (hi != "" && !isPort(hi)) {
		return false
	}
	if lo != "" && hi != "" {
		a, _ := strconv.Atoi(lo)
		b, _ := strconv.Atoi(hi)
		return a <= b
	}
	return true
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 || digits(s) != len(s) {
		return false
	}
	n, err := strconv.Atoi(s)
	return err == nil && n <= 65535
}

// isDNSName accepts the XACML dnsName syntax: hostname [ ":" portrange ],
// where the hostname's leftmost label may be the wildcard "*", labels are
// letters, digits and inner hyphens, the top label starts with a letter and
// a trailing dot is allowed.
func isDNSName(s string) bool {
	host, ports, hasPort := strings.Cut(s, ":")
	if hasPort && !isPortRange(ports, false) {
		return false
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return false
	}
	labels := strings.Split(host, ".")
	for i, label := range labels {
		if i == 0 && label == "*" && len(labels) > 1 {
			continue
		}
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for j := 0; j < len(label); j++ {
			if !isAlnum(label[j]) && label[j] != '-' {
				return false
			}
		}
		if i == len(labels)-1 && !isAlpha(label[0]) {
			return false
		}
	}
	return true
}
