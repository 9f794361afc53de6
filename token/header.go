package token

import (
	"fmt"
	"strings"
)

// header is the protected header of a compact JWS after validation.
type header struct {
	alg    string
	kid    string
	hasKid bool
	typ    string
}

// registeredHeader reports whether name is a JWS header parameter defined
// by RFC 7515 or RFC 7518; section 4.1.11 forbids listing those in crit.
func registeredHeader(name string) bool {
	switch name {
	case "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit":
		return true
	}
	return false
}

// parseHeader validates the decoded protected header against the policy,
// before any key is looked up.
func (p *jwsPolicy) parseHeader(m map[string]any) (header, algorithm, error) {
	var h header
	alg, ok := m["alg"].(string)
	if !ok {
		return h, algorithm{}, fmt.Errorf("%w: header has no string alg", ErrMalformed)
	}
	if strings.EqualFold(alg, "none") {
		return h, algorithm{}, fmt.Errorf("%w: alg %s (unsecured JWS) is never accepted", ErrAlgorithm, quote(alg))
	}
	a, ok := p.algs[alg]
	if !ok {
		return h, algorithm{}, fmt.Errorf("%w: alg %s is not allowed", ErrAlgorithm, quote(alg))
	}
	h.alg = alg

	// Keys come only from the configured key source, never from the token.
	for _, name := range [...]string{"jwk", "jku", "x5u", "x5c"} {
		if _, ok := m[name]; ok {
			return h, a, fmt.Errorf("%w: %q (keys are taken only from the configured key set)", ErrHeader, name)
		}
	}
	// RFC 7797 unencoded payloads change what is signed; not supported.
	if v, ok := m["b64"]; ok && v != true {
		return h, a, fmt.Errorf("%w: \"b64\" (unencoded payloads are not supported)", ErrHeader)
	}
	if p.jwt {
		if cty, ok := m["cty"].(string); ok && strings.EqualFold(cty, "JWT") {
			return h, a, fmt.Errorf("%w: \"cty\" JWT (nested tokens are not supported)", ErrHeader)
		}
	}
	if err := p.checkCrit(m); err != nil {
		return h, a, err
	}

	if v, ok := m["kid"]; ok {
		if h.kid, ok = v.(string); !ok {
			return h, a, fmt.Errorf("%w: kid is not a string", ErrMalformed)
		}
		h.hasKid = true
	}
	if v, ok := m["typ"]; ok {
		if h.typ, ok = v.(string); !ok {
			return h, a, fmt.Errorf("%w: typ is not a string", ErrMalformed)
		}
	}
	if p.typ != "" && !sameMediaType(h.typ, p.typ) {
		if h.typ == "" {
			return h, a, fmt.Errorf("%w: no typ header, want %s", ErrType, quote(p.typ))
		}
		return h, a, fmt.Errorf("%w: typ %s, want %s", ErrType, quote(h.typ), quote(p.typ))
	}
	return h, a, nil
}

// checkCrit enforces RFC 7515 section 4.1.11: crit, when present, is a
// non-empty array of distinct names, none of them a registered header, each
// understood by this verifier and present in the header.
func (p *jwsPolicy) checkCrit(m map[string]any) error {
	v, ok := m["crit"]
	if !ok {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%w: crit is not an array", ErrCrit)
	}
	if len(list) == 0 {
		return fmt.Errorf("%w: crit is empty", ErrCrit)
	}
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		name, ok := e.(string)
		if !ok {
			return fmt.Errorf("%w: crit holds a non-string", ErrCrit)
		}
		switch {
		case seen[name]:
			return fmt.Errorf("%w: %s listed twice", ErrCrit, quote(name))
		case registeredHeader(name):
			return fmt.Errorf("%w: %s is a registered header and may not be critical", ErrCrit, quote(name))
		case !p.critical[name]:
			return fmt.Errorf("%w: %s is not understood", ErrCrit, quote(name))
		}
		if _, present := m[name]; !present {
			return fmt.Errorf("%w: %s is critical but absent", ErrCrit, quote(name))
		}
		seen[name] = true
	}
	return nil
}

// sameMediaType compares typ values as RFC 7515 section 4.1.9 says: case
// insensitively, with the "application/" prefix optional.
func sameMediaType(got, want string) bool {
	trim := func(s string) string {
		s = strings.ToLower(s)
		return strings.TrimPrefix(s, "application/")
	}
	return got != "" && trim(got) == trim(want)
}
