package pip

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// Normalize converts one value a provider returned into a bag of values of
// the value model (string, bool, int64, float64, json.Number), so that
// providers written by hand may return int, uint32, float32, []string and
// the like. A slice or array becomes the bag of its elements (nested ones
// are flattened: a bag holds no bags); nil becomes an empty bag. A
// json.Number whose lexical form is an integer that fits int64 becomes
// int64, any other valid JSON number stays a json.Number (an xs:double
// that prints back as given). NaN, infinities, integers beyond int64, maps,
// structs and every other type fail with ErrInvalidValue, because the
// engine could not type them and guessing would change decisions.
func Normalize(v any) ([]any, error) {
	if v == nil {
		return nil, nil
	}
	if e, ok, err := scalar(v); ok || err != nil {
		if err != nil {
			return nil, err
		}
		return []any{e}, nil
	}
	var out []any
	if err := appendFlat(&out, v); err != nil {
		return nil, err
	}
	return out, nil
}

// NormalizeValues applies Normalize to every bag of vs. When vs is already
// normalized it is returned as is, without allocating, which keeps cached
// fetches cheap.
func NormalizeValues(vs Values) (Values, error) {
	clean := true
	for _, bag := range vs {
		for _, e := range bag {
			if !isNormal(e) {
				clean = false
				break
			}
		}
		if !clean {
			break
		}
	}
	if clean {
		return vs, nil
	}
	out := make(Values, len(vs))
	for id, bag := range vs {
		var nb []any
		for _, e := range bag {
			if err := appendFlat(&nb, e); err != nil {
				return nil, fmt.Errorf("attribute %q: %w", id, err)
			}
		}
		out[id] = nb
	}
	return out, nil
}

// isNormal reports whether e is already in the value model.
func isNormal(e any) bool {
	switch x := e.(type) {
	case string, bool, int64:
		return true
	case float64:
		return !math.IsNaN(x) && !math.IsInf(x, 0)
	case json.Number:
		return isJSONNumber(string(x)) && !isJSONInteger(string(x))
	}
	return false
}

// appendFlat appends v, or the elements of v when it is a slice or array,
// to out.
func appendFlat(out *[]any, v any) error {
	if v == nil {
		return nil
	}
	if e, ok, err := scalar(v); ok || err != nil {
		if err != nil {
			return err
		}
		*out = append(*out, e)
		return nil
	}
	if l, ok := v.([]any); ok {
		for _, e := range l {
			if err := appendFlat(out, e); err != nil {
				return err
			}
		}
		return nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return fmt.Errorf("%w: %T (bytes have no attribute type)", ErrInvalidValue, v)
		}
		for i := range rv.Len() {
			if err := appendFlat(out, rv.Index(i).Interface()); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("%w: %T", ErrInvalidValue, v)
}

// scalar converts v when it is a scalar of a supported type; ok is false
// when v is not a scalar at all (it may be a slice).
func scalar(v any) (e any, ok bool, err error) {
	switch x := v.(type) {
	case string, bool, int64:
		return x, true, nil
	case int:
		return int64(x), true, nil
	case int8:
		return int64(x), true, nil
	case int16:
		return int64(x), true, nil
	case int32:
		return int64(x), true, nil
	case uint:
		return uintValue(uint64(x))
	case uint8:
		return int64(x), true, nil
	case uint16:
		return int64(x), true, nil
	case uint32:
		return int64(x), true, nil
	case uint64:
		return uintValue(x)
	case float32:
		return floatValue(float64(x))
	case float64:
		return floatValue(x)
	case json.Number:
		n, err := numberValue(string(x))
		return n, true, err
	}
	return nil, false, nil
}

func uintValue(u uint64) (any, bool, error) {
	if u > math.MaxInt64 {
		return nil, true, fmt.Errorf("%w: integer %d overflows int64", ErrInvalidValue, u)
	}
	return int64(u), true, nil
}

func floatValue(f float64) (any, bool, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, true, fmt.Errorf("%w: %v", ErrInvalidValue, f)
	}
	return f, true, nil
}

// numberValue types a JSON number by its lexical form: an integer that
// fits int64 is xs:integer, anything else is xs:double kept as written.
func numberValue(s string) (any, error) {
	if !isJSONNumber(s) {
		return nil, fmt.Errorf("%w: %q is not a JSON number", ErrInvalidValue, s)
	}
	if isJSONInteger(s) {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		// An integer beyond int64 is kept as a double with its lexical
		// form: xs:double can still compare it, and it prints back as given.
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		// Out of float64 range (e.g. 1e400): not representable.
		return nil, fmt.Errorf("%w: number %s out of range", ErrInvalidValue, s)
	}
	return json.Number(s), nil
}

// isJSONInteger reports whether a valid JSON number has no fraction or
// exponent.
func isJSONInteger(s string) bool {
	for i := range len(s) {
		switch s[i] {
		case '.', 'e', 'E':
			return false
		}
	}
	return true
}

// isJSONNumber reports whether s matches the JSON number grammar (RFC 8259
// section 6); strconv alone would also accept "Inf", "0x1p3" and "1_000".
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}

// FromJSON types a value decoded by encoding/json with UseNumber (string,
// bool, json.Number, []any, map[string]any or nil) the way the whole
// platform types JSON: string → xs:string, boolean → xs:boolean, integer →
// xs:integer (int64), other number → xs:double (json.Number, lexical form
// kept), array → bag of its elements, null → empty bag. An object, or an
// object inside an array, fails with ErrInvalidValue: XACML attributes have
// no object type, and callers decide whether to skip or refuse it.
func FromJSON(v any) ([]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return nil, fmt.Errorf("%w: JSON object", ErrInvalidValue)
	case float64:
		// Decoded without UseNumber: the lexical form is already lost.
		return Normalize(x)
	case string, bool, json.Number:
		return Normalize(x)
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			bag, err := FromJSON(e)
			if err != nil {
				return nil, err
			}
			out = append(out, bag...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %T is not a decoded JSON value", ErrInvalidValue, v)
}

// Lexical returns the lexical form of a value of the model, the form a
// Query.Key carries and the decision log prints: json.Number as written,
// float64 in the shortest form that reads back exactly.
func Lexical(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "", fmt.Errorf("%w: %v", ErrInvalidValue, x)
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case json.Number:
		if !isJSONNumber(string(x)) {
			return "", fmt.Errorf("%w: %q is not a JSON number", ErrInvalidValue, string(x))
		}
		return string(x), nil
	}
	bag, err := Normalize(v)
	if err != nil {
		return "", err
	}
	if len(bag) != 1 {
		return "", fmt.Errorf("%w: %T is not a single value", ErrInvalidValue, v)
	}
	return Lexical(bag[0])
}
