package server

import (
	"encoding/json"
)

// maxJSONDepth is encoding/json's nesting limit; deeper documents are left
// to it, so that they get its error.
const maxJSONDepth = 10000

// parseJSONFast decodes a JSON document into exactly the values
// encoding/json produces with UseNumber (map[string]any, []any, string,
// bool, nil, json.Number), without reflection and without its
// per-token state machine: the AuthZEN hot path decodes every request
// body, and encoding/json was a large part of its cost. It accepts valid
// JSON only; on anything else it returns false and the caller decodes
// again with encoding/json, so that a client sees encoding/json's error
// message, offset included, exactly as before.
func parseJSONFast(b []byte) (any, bool) {
	p := jsonParser{b: b}
	p.skipSpace()
	v, ok := p.value()
	if !ok {
		return nil, false
	}
	p.skipSpace()
	if p.i != len(p.b) {
		return nil, false
	}
	return v, true
}

type jsonParser struct {
	b     []byte
	i     int
	depth int
}

func (p *jsonParser) skipSpace() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, bool) {
	if p.i >= len(p.b) {
		return nil, false
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, ok := p.str()
		return s, ok
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, false
}

func (p *jsonParser) literal(lit string) bool {
	if len(p.b)-p.i < len(lit) || string(p.b[p.i:p.i+len(lit)]) != lit {
		return false
	}
	p.i += len(lit)
	return true
}

func (p *jsonParser) object() (any, bool) {
	p.depth++
	if p.depth > maxJSONDepth {
		return nil, false
	}
	p.i++ // {
	m := make(map[string]any)
	p.skipSpace()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.depth--
		return m, true
	}
	for {
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, false
		}
		k, ok := p.key()
		if !ok {
			return nil, false
		}
		p.skipSpace()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, false
		}
		p.i++
		p.skipSpace()
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		m[k] = v
		p.skipSpace()
		if p.i >= len(p.b) {
			return nil, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.skipSpace()
		case '}':
			p.i++
			p.depth--
			return m, true
		default:
			return nil, false
		}
	}
}

func (p *jsonParser) array() (any, bool) {
	p.depth++
	if p.depth > maxJSONDepth {
		return nil, false
	}
	p.i++ // [
	a := []any{}
	p.skipSpace()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.depth--
		return a, true
	}
	for {
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		a = append(a, v)
		p.skipSpace()
		if p.i >= len(p.b) {
			return nil, false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.skipSpace()
		case ']':
			p.i++
			p.depth--
			return a, true
		default:
			return nil, false
		}
	}
}

// key reads an object key, returning the constant for the members AuthZEN
// defines so that the common keys cost no allocation.
func (p *jsonParser) key() (string, bool) {
	start, end, plain, ok := p.scanString()
	if !ok {
		return "", false
	}
	if plain {
		switch raw := p.b[start+1 : end-1]; string(raw) {
		case "subject":
			return "subject", true
		case "action":
			return "action", true
		case "resource":
			return "resource", true
		case "context":
			return "context", true
		case "type":
			return "type", true
		case "id":
			return "id", true
		case "name":
			return "name", true
		case "properties":
			return "properties", true
		case "evaluations":
			return "evaluations", true
		case "options":
			return "options", true
		case "evaluations_semantic":
			return "evaluations_semantic", true
		case "page":
			return "page", true
		}
	}
	return p.stringValue(start, end, plain)
}

func (p *jsonParser) str() (string, bool) {
	start, end, plain, ok := p.scanString()
	if !ok {
		return "", false
	}
	return p.stringValue(start, end, plain)
}

// stringValue converts the quoted string at b[start:end]. Strings with
// escapes or non-ASCII bytes go through encoding/json, which unescapes and
// replaces invalid UTF-8 exactly as the slow path would.
func (p *jsonParser) stringValue(start, end int, plain bool) (string, bool) {
	if plain {
		return string(p.b[start+1 : end-1]), true
	}
	var s string
	if err := json.Unmarshal(p.b[start:end], &s); err != nil {
		return "", false
	}
	return s, true
}

// scanString finds the end of the string starting at p.i (a quote) and
// advances past it. plain means no escapes and only printable ASCII.
func (p *jsonParser) scanString() (start, end int, plain, ok bool) {
	start = p.i
	plain = true
	for i := p.i + 1; i < len(p.b); i++ {
		c := p.b[i]
		switch {
		case c == '"':
			p.i = i + 1
			return start, p.i, plain, true
		case c == '\\':
			plain = false
			i++ // the escaped character; encoding/json validates it
		case c < 0x20:
			return 0, 0, false, false
		case c >= 0x80:
			plain = false
		}
	}
	return 0, 0, false, false
}

// number reads a JSON number (RFC 8259 grammar) as a json.Number.
func (p *jsonParser) number() (any, bool) {
	b, i := p.b, p.i
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return nil, false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	p.i = i
	return json.Number(string(b[start:i])), true
}
