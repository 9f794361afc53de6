package xacmlfn

import (
	"fmt"
	"net/netip"
	"strings"
)

// checkIPAddress validates the XACML ipAddress syntax (A.2):
//
//	ipv4: address ["/" mask] [":" portrange]
//	ipv6: "[" address "]" ["/" "[" mask "]"] [":" portrange]
//
// XACML defines no equality for this type; the value is compared only
// through its string form (regexp-match), so validation is all it needs.
func checkIPAddress(s string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %q is not a valid ipAddress: %s", ErrSyntax, s, why)
	}
	rest := s
	var ipv6 bool
	var addr string
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return bad("missing ']'")
		}
		addr, rest, ipv6 = rest[1:end], rest[end+1:], true
	} else {
		end := strings.IndexAny(rest, "/:")
		if end < 0 {
			end = len(rest)
		}
		addr, rest = rest[:end], rest[end:]
	}
	if err := checkIP(addr, ipv6); err != nil {
		return bad(err.Error())
	}
	if strings.HasPrefix(rest, "/") {
		rest = rest[1:]
		var mask string
		if ipv6 {
			if !strings.HasPrefix(rest, "[") {
				return bad("an IPv6 mask must be in brackets")
			}
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return bad("missing ']' after the mask")
			}
			mask, rest = rest[1:end], rest[end+1:]
		} else {
			end := strings.IndexByte(rest, ':')
			if end < 0 {
				end = len(rest)
			}
			mask, rest = rest[:end], rest[end:]
		}
		if err := checkIP(mask, ipv6); err != nil {
			return bad("mask: " + err.Error())
		}
	}
	if rest == "" {
		return nil
	}
	if rest[0] != ':' || checkPortRange(rest[1:]) != nil {
		return bad("bad port range")
	}
	return nil
}

func checkIP(a string, ipv6 bool) error {
	ip, err := netip.ParseAddr(a)
	if err != nil {
		return err
	}
	if ip.Zone() != "" || ip.Is4In6() || ip.Is4() == ipv6 {
		if ipv6 {
			return fmt.Errorf("%q is not an IPv6 address", a)
		}
		return fmt.Errorf("%q is not an IPv4 address", a)
	}
	return nil
}

// checkPortRange validates portnumber | "-" portnumber |
// portnumber "-" [portnumber].
func checkPortRange(r string) error {
	lo, hi, dash := strings.Cut(r, "-")
	if !dash {
		return checkPort(lo)
	}
	if lo == "" && hi == "" {
		return fmt.Errorf("%w: empty port range", ErrSyntax)
	}
	for _, p := range [2]string{lo, hi} {
		if p != "" {
			if err := checkPort(p); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkPort(p string) error {
	n, next, ok := number(p, 0)
	if !ok || next != len(p) || n > 65535 {
		return fmt.Errorf("%w: bad port %q", ErrSyntax, p)
	}
	return nil
}

// checkDNSName validates the XACML dnsName syntax: hostname [":" portrange],
// where the left-most label may be "*" to stand for any subdomain.
func checkDNSName(s string) error {
	host, port, hasPort := strings.Cut(s, ":")
	name := strings.TrimSuffix(strings.TrimPrefix(host, "*."), ".")
	if !validHostName(name) {
		return fmt.Errorf("%w: %q is not a valid dnsName", ErrSyntax, s)
	}
	if hasPort {
		if err := checkPortRange(port); err != nil {
			return fmt.Errorf("%w: %q is not a valid dnsName: bad port range", ErrSyntax, s)
		}
	}
	return nil
}

// checkAnyURI validates an xs:anyURI. XML Schema escapes the characters that
// URIs do not allow (spaces, non-ASCII) before checking the result against
// the URI syntax, so nearly any string is valid; what remains to reject is a
// malformed percent-escape, a second '#', and a scheme that is not
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func checkAnyURI(s string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %q is not a valid anyURI: %s", ErrSyntax, s, why)
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && (i+2 >= len(s) || !isHexDigit(s[i+1]) || !isHexDigit(s[i+2])) {
			return bad("malformed percent-escape")
		}
	}
	if strings.Count(s, "#") > 1 {
		return bad("more than one '#'")
	}
	if colon := strings.IndexByte(s, ':'); colon >= 0 {
		if stop := strings.IndexAny(s, "/?#"); stop < 0 || colon < stop {
			scheme := s[:colon]
			if scheme == "" {
				return bad("empty scheme")
			}
			for i := 0; i < len(scheme); i++ {
				c := scheme[i]
				letter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
				if !letter && (i == 0 || (!isDigit(c) && c != '+' && c != '-' && c != '.')) {
					return bad("bad scheme")
				}
			}
		}
	}
	return nil
}
