package xacmlfn

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// x500Name is a distinguished name reduced to what XACML x500Name-equal
// compares: one normalised key per RDN, in the order of the string form
// (most specific RDN first, as RFC 2253 writes them).
type x500Name []string

// attributeOID maps the descriptors of RFC 4514, RFC 2256 and common usage
// to the attribute type's OID, so that "CN=x" and "2.5.4.3=x" name the same
// attribute (RFC 2253 normalisation). It is a switch, not a package map, to
// keep the package free of global state.
func attributeOID(descriptor string) (string, bool) {
	switch descriptor {
	case "CN", "COMMONNAME":
		return "2.5.4.3", true
	case "SN", "SURNAME":
		return "2.5.4.4", true
	case "SERIALNUMBER":
		return "2.5.4.5", true
	case "C", "COUNTRYNAME":
		return "2.5.4.6", true
	case "L", "LOCALITYNAME":
		return "2.5.4.7", true
	case "ST", "S", "STATEORPROVINCENAME":
		return "2.5.4.8", true
	case "STREET", "STREETADDRESS":
		return "2.5.4.9", true
	case "O", "ORGANIZATIONNAME":
		return "2.5.4.10", true
	case "OU", "ORGANIZATIONALUNITNAME":
		return "2.5.4.11", true
	case "T", "TITLE":
		return "2.5.4.12", true
	case "POSTALCODE":
		return "2.5.4.17", true
	case "GN", "GIVENNAME":
		return "2.5.4.42", true
	case "INITIALS":
		return "2.5.4.43", true
	case "GENERATIONQUALIFIER":
		return "2.5.4.44", true
	case "DNQUALIFIER":
		return "2.5.4.46", true
	case "PSEUDONYM":
		return "2.5.4.65", true
	case "DC", "DOMAINCOMPONENT":
		return "0.9.2342.19200300.100.1.25", true
	case "UID", "USERID":
		return "0.9.2342.19200300.100.1.1", true
	case "E", "EMAIL", "EMAILADDRESS":
		return "1.2.840.113549.1.9.1", true
	}
	return "", false
}

// parseX500 parses a distinguished name in the RFC 2253/4514 string form,
// accepting the RFC 1779 leniencies that policies and certificates still
// use: ';' as an RDN separator, spaces around separators and '=', quoted
// values and the "OID." prefix. An empty string is the empty DN.
func parseX500(s string) (x500Name, error) {
	p := dnParser{s: s}
	var name x500Name
	p.skipSpace()
	if p.i == len(s) {
		return name, nil
	}
	for {
		rdn, err := p.rdn()
		if err != nil {
			return nil, fmt.Errorf("%w: %q is not a valid x500Name: %w", ErrSyntax, s, err)
		}
		name = append(name, rdn)
		if p.i == len(s) {
			return name, nil
		}
		// rdn stops only at the end or at ',' or ';'.
		p.i++
	}
}

type dnParser struct {
	s string
	i int
}

func (p *dnParser) skipSpace() {
	for p.i < len(p.s) && isDNSpace(p.s[p.i]) {
		p.i++
	}
}

func isDNSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// rdn reads attributeTypeAndValue ('+' attributeTypeAndValue)* and returns
// its key: the pairs in ascending order, as XACML requires before comparing
// multi-valued RDNs.
func (p *dnParser) rdn() (string, error) {
	var avas []string
	for {
		ava, err := p.ava()
		if err != nil {
			return "", err
		}
		avas = append(avas, ava)
		if p.i < len(p.s) && p.s[p.i] == '+' {
			p.i++
			continue
		}
		break
	}
	if len(avas) == 1 {
		return avas[0], nil
	}
	slices.Sort(avas)
	return strings.Join(avas, "+"), nil
}

// ava reads one type=value pair and returns "TYPE=normalised value".
func (p *dnParser) ava() (string, error) {
	p.skipSpace()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != '=' && !isDNSpace(p.s[p.i]) {
		p.i++
	}
	typ, err := attributeTypeKey(p.s[start:p.i])
	if err != nil {
		return "", err
	}
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '=' {
		return "", fmt.Errorf("missing '=' after attribute type %q", p.s[start:p.i])
	}
	p.i++
	p.skipSpace()
	value, err := p.value()
	if err != nil {
		return "", err
	}
	return typ + "=" + value, nil
}

// attributeTypeKey returns the OID of a descriptor or numeric OID.
func attributeTypeKey(t string) (string, error) {
	if t == "" {
		return "", fmt.Errorf("missing attribute type")
	}
	u := strings.ToUpper(t)
	u = strings.TrimPrefix(u, "OID.")
	if isDigit(u[0]) {
		if !validOID(u) {
			return "", fmt.Errorf("bad numeric attribute type %q", t)
		}
		return u, nil
	}
	if oid, ok := attributeOID(u); ok {
		return oid, nil
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !(c >= 'A' && c <= 'Z') && !(i > 0 && (isDigit(c) || c == '-')) {
			return "", fmt.Errorf("bad attribute type %q", t)
		}
	}
	return u, nil
}

func validOID(s string) bool {
	arcs := 0
	digits := 0
	for i := 0; i < len(s); i++ {
		switch {
		case isDigit(s[i]):
			digits++
		case s[i] == '.' && digits > 0:
			arcs++
			digits = 0
		default:
			return false
		}
	}
	return digits > 0 && arcs > 0
}

// value reads an attribute value up to an unescaped separator and returns it
// normalised as RFC 3280 4.1.2.4 compares names: case-insensitively, with
// leading and trailing white space removed and inner runs of white space
// collapsed to one space. A '#' hex value (a BER encoding) is kept as
// lower-case hex.
func (p *dnParser) value() (string, error) {
	if p.i < len(p.s) && p.s[p.i] == '#' {
		start := p.i + 1
		p.i = start
		for p.i < len(p.s) && !strings.ContainsRune(",;+", rune(p.s[p.i])) && !isDNSpace(p.s[p.i]) {
			p.i++
		}
		hex := p.s[start:p.i]
		if hex == "" || !validHex(hex) {
			return "", fmt.Errorf("bad hex value #%s", hex)
		}
		p.skipSpace()
		if p.i < len(p.s) && !strings.ContainsRune(",;+", rune(p.s[p.i])) {
			return "", fmt.Errorf("unexpected %q after hex value", p.s[p.i])
		}
		return "#" + strings.ToLower(hex), nil
	}
	var raw []byte
	if p.i < len(p.s) && p.s[p.i] == '"' {
		p.i++
		for {
			if p.i >= len(p.s) {
				return "", fmt.Errorf("unterminated quoted value")
			}
			c := p.s[p.i]
			if c == '"' {
				p.i++
				break
			}
			if c == '\\' {
				b, err := p.escape()
				if err != nil {
					return "", err
				}
				raw = append(raw, b)
				continue
			}
			raw = append(raw, c)
			p.i++
		}
		p.skipSpace()
		if p.i < len(p.s) && !strings.ContainsRune(",;+", rune(p.s[p.i])) {
			return "", fmt.Errorf("unexpected %q after quoted value", p.s[p.i])
		}
	} else {
		for p.i < len(p.s) {
			c := p.s[p.i]
			if c == ',' || c == ';' || c == '+' {
				break
			}
			if c == '\\' {
				b, err := p.escape()
				if err != nil {
					return "", err
				}
				raw = append(raw, b)
				continue
			}
			// RFC 4514 requires these escaped; '=' it allows as is.
			if c == '"' || c == '<' || c == '>' {
				return "", fmt.Errorf("unescaped %q in value", c)
			}
			raw = append(raw, c)
			p.i++
		}
	}
	if !utf8.Valid(raw) {
		return "", fmt.Errorf("value is not valid UTF-8")
	}
	return foldDNValue(string(raw)), nil
}

// escape reads '\' followed by a special character or two hex digits.
func (p *dnParser) escape() (byte, error) {
	p.i++ // the backslash
	if p.i >= len(p.s) {
		return 0, fmt.Errorf("trailing backslash")
	}
	c := p.s[p.i]
	if p.i+1 < len(p.s) && isHexDigit(c) && isHexDigit(p.s[p.i+1]) {
		p.i += 2
		return hexVal(c)<<4 | hexVal(p.s[p.i-1]), nil
	}
	if strings.IndexByte(",=+<>#;\\\" ", c) >= 0 {
		p.i++
		return c, nil
	}
	return 0, fmt.Errorf("bad escape \\%c", c)
}

func isHexDigit(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case isDigit(c):
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// foldDNValue lower-cases v and normalises its white space; separators that
// would make keys ambiguous are escaped.
func foldDNValue(v string) string {
	var b strings.Builder
	b.Grow(len(v))
	space := false
	for _, r := range v {
		if unicode.IsSpace(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		switch r {
		case ',', '+', '=', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// equalX500 is XACML x500Name-equal.
func equalX500(a, b string) (bool, error) {
	x, err := parseX500(a)
	if err != nil {
		return false, err
	}
	y, err := parseX500(b)
	if err != nil {
		return false, err
	}
	return slices.Equal(x, y), nil
}

// matchX500 is XACML x500Name-match: true when a's RDNs are the terminal
// sequence of b's, that is when a names b itself or one of its ancestors in
// the directory tree ("o=Sun,c=US" matches "cn=Anne,ou=Labs,o=Sun,c=US").
func matchX500(a, b string) (bool, error) {
	x, err := parseX500(a)
	if err != nil {
		return false, err
	}
	y, err := parseX500(b)
	if err != nil {
		return false, err
	}
	if len(x) > len(y) {
		return false, nil
	}
	return slices.Equal(x, y[len(y)-len(x):]), nil
}

func (n x500Name) key() string { return strings.Join(n, ",") }
