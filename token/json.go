package token

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of headers, claims and key sets. Real
// tokens nest two or three levels; the bound keeps hostile input from
// costing deep recursion.
const maxJSONDepth = 32

// decodeObject decodes one JSON object strictly: valid UTF-8 only, no
// duplicate member names at any level (two "sub" or two "alg" members would
// let different parsers see different tokens), no trailing data, bounded
// depth. Numbers stay json.Number so their lexical form is kept.
func decodeObject(data []byte) (map[string]any, error) {
	if !utf8.Valid(data) {
		return nil, errors.New("JSON is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("JSON value is not an object")
	}
	obj, err := decodeMembers(dec, 1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after JSON object")
	}
	return obj, nil
}

// decodeValue decodes the value that starts with tok.
func decodeValue(dec *json.Decoder, tok json.Token, depth int) (any, error) {
	d, ok := tok.(json.Delim)
	if !ok {
		// string, json.Number, bool or nil
		return tok, nil
	}
	if depth >= maxJSONDepth {
		return nil, fmt.Errorf("JSON nested deeper than %d levels", maxJSONDepth)
	}
	switch d {
	case '{':
		return decodeMembers(dec, depth+1)
	case '[':
		arr := []any{}
		for {
			t, err := dec.Token()
			if err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			if t == json.Delim(']') {
				return arr, nil
			}
			v, err := decodeValue(dec, t, depth+1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
	}
	return nil, fmt.Errorf("invalid JSON: unexpected %v", d)
}

// decodeMembers decodes the members of an object whose '{' was consumed.
func decodeMembers(dec *json.Decoder, depth int) (map[string]any, error) {
	obj := map[string]any{}
	for {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		if t == json.Delim('}') {
			return obj, nil
		}
		name, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("invalid JSON: unexpected %v", t)
		}
		if _, dup := obj[name]; dup {
			return nil, fmt.Errorf("duplicate JSON member %s", quote(name))
		}
		vt, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		v, err := decodeValue(dec, vt, depth)
		if err != nil {
			return nil, err
		}
		obj[name] = v
	}
}

// maxQuoted bounds how much of an untrusted string appears in an error.
const maxQuoted = 64

// quote renders an untrusted string for an error message: Go-quoted (so a
// newline cannot split a log line) and truncated.
func quote(s string) string {
	if len(s) > maxQuoted {
		cut := maxQuoted
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q...", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
