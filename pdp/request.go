package pdp

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Standard XACML attribute categories, as every entry point names them.
const (
	CategorySubject     = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"
	CategoryResource    = "urn:oasis:names:tc:xacml:3.0:attribute-category:resource"
	CategoryAction      = "urn:oasis:names:tc:xacml:3.0:attribute-category:action"
	CategoryEnvironment = "urn:oasis:names:tc:xacml:3.0:attribute-category:environment"
)

// Request is one access request: XACML attributes in categories. Every entry
// point (XACML XML, AuthZEN JSON, JWT claims, HTTP PEP, ext_authz, PIPs)
// reduces to this, which is why the same request gets the same decision
// whichever way it arrives.
type Request struct {
	Attributes []Attribute
	// ReturnPolicyIDs asks for the list of applicable policies.
	ReturnPolicyIDs bool
}

// Attribute is one attribute with its bag of values.
type Attribute struct {
	Category string
	ID       string
	Issuer   string
	Values   []Value
}

// Value is one typed value in lexical form.
type Value struct {
	// Type is the short data type name ("string", "integer", ...).
	Type string
	// Lexical is the value as written ("27.50" stays "27.50").
	Lexical string
	// Untyped marks values whose type was inferred from JSON: the engine
	// may coerce them to the type a policy designates (a JSON string to
	// xs:dateTime, an integer to xs:double). Typed XACML values never are.
	Untyped bool
}

// Add appends values to the attribute (category, id), creating it if needed.
func (r *Request) Add(category, id string, values ...Value) {
	for i := range r.Attributes {
		a := &r.Attributes[i]
		if a.Category == category && a.ID == id && a.Issuer == "" {
			a.Values = append(a.Values, values...)
			return
		}
	}
	r.Attributes = append(r.Attributes, Attribute{Category: category, ID: id, Values: values})
}

// Get returns the values of the attribute (category, id), any issuer.
func (r *Request) Get(category, id string) []Value {
	var out []Value
	for _, a := range r.Attributes {
		if a.Category == category && a.ID == id {
			out = append(out, a.Values...)
		}
	}
	return out
}

// JSONValues converts a JSON value into typed values following DESIGN.md's
// table: string → string, boolean → boolean, integer → integer, other
// number → double (lexical form kept), array → one value per element.
// Objects and nulls cannot be attribute values and are refused.
func JSONValues(v any) ([]Value, error) {
	switch x := v.(type) {
	case []any:
		out := make([]Value, 0, len(x))
		for _, e := range x {
			vs, err := JSONValues(e)
			if err != nil {
				return nil, err
			}
			out = append(out, vs...)
		}
		return out, nil
	case nil:
		return nil, nil
	}
	s, err := jsonScalar(v)
	if err != nil {
		return nil, err
	}
	return []Value{s}, nil
}

func jsonScalar(v any) (Value, error) {
	switch x := v.(type) {
	case string:
		return Value{Type: "string", Lexical: x, Untyped: true}, nil
	case bool:
		return Value{Type: "boolean", Lexical: strconv.FormatBool(x), Untyped: true}, nil
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return Value{Type: "integer", Lexical: string(x), Untyped: true}, nil
		}
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return Value{}, fmt.Errorf("invalid number %q", string(x))
		}
		return Value{Type: "double", Lexical: string(x), Untyped: true}, nil
	case int:
		return Value{Type: "integer", Lexical: strconv.Itoa(x), Untyped: true}, nil
	case int64:
		return Value{Type: "integer", Lexical: strconv.FormatInt(x, 10), Untyped: true}, nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return Value{}, fmt.Errorf("number %v cannot be an attribute value", x)
		}
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return Value{Type: "integer", Lexical: strconv.FormatInt(int64(x), 10), Untyped: true}, nil
		}
		return Value{Type: "double", Lexical: strconv.FormatFloat(x, 'g', -1, 64), Untyped: true}, nil
	}
	return Value{}, fmt.Errorf("a %T cannot be an attribute value", v)
}
