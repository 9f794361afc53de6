package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/token"
)

// Standard XACML identifiers under which the AuthZEN identifiers are also
// exposed, as the remote PDP does, so that policies written against them
// work with AuthZEN input.
const (
	resourceIDAttribute = "urn:oasis:names:tc:xacml:1.0:resource:resource-id"
	actionIDAttribute   = "urn:oasis:names:tc:xacml:1.0:action:action-id"
)

// authzenEntities maps the AuthZEN members to categories, and the members
// also exposed under a standard XACML identifier.
var authzenEntities = []struct {
	member, category string
	aliases          map[string]string
}{
	{"subject", pdp.CategorySubject, map[string]string{"id": token.SubjectIDAttribute}},
	{"action", pdp.CategoryAction, map[string]string{"name": actionIDAttribute}},
	{"resource", pdp.CategoryResource, map[string]string{"id": resourceIDAttribute}},
}

// NewAuthZENRequest maps an AuthZEN 1.0 access evaluation (decoded JSON:
// "subject", "action", "resource", "context") to attributes as DESIGN.md
// contract 3 and the remote PDP do: subject → access-subject, action →
// action, resource → resource, context → environment; each top-level member
// of an entity and each member of its "properties" becomes an attribute of
// that name; subject id, resource id and action name are also exposed as
// the standard XACML subject-id, resource-id and action-id. Values are
// typed by pdp.JSONValues (decode with json.Decoder.UseNumber to keep
// lexical forms such as 27.50); objects are flattened to "member.sub";
// null is an empty bag. Unknown top-level members are ignored, as AuthZEN
// requires for forward compatibility.
func NewAuthZENRequest(in map[string]any) (*pdp.Request, error) {
	req := &pdp.Request{Attributes: make([]pdp.Attribute, 0, 12)}
	for _, e := range authzenEntities {
		v, ok := in[e.member]
		if !ok || v == nil {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: %s must be an object", pdp.ErrBadRequest, e.member)
		}
		if err := addMembers(req, e.category, e.member, m, "properties", e.aliases); err != nil {
			return nil, err
		}
		if props, ok := m["properties"]; ok && props != nil {
			pm, ok := props.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%w: %s.properties must be an object", pdp.ErrBadRequest, e.member)
			}
			if err := addMembers(req, e.category, e.member+".properties", pm, "", nil); err != nil {
				return nil, err
			}
		}
	}
	if c, ok := in["context"]; ok && c != nil {
		cm, ok := c.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: context must be an object", pdp.ErrBadRequest)
		}
		if err := addMembers(req, pdp.CategoryEnvironment, "context", cm, "", nil); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// ParseAuthZENRequest decodes an AuthZEN 1.0 access evaluation body and
// maps it as NewAuthZENRequest does, keeping the lexical form of numbers.
func ParseAuthZENRequest(data []byte) (*pdp.Request, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var in map[string]any
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("%w: authzen request: %w", pdp.ErrBadRequest, err)
	}
	if in == nil {
		return nil, fmt.Errorf("%w: authzen request must be a JSON object", pdp.ErrBadRequest)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: authzen request: data after the JSON object", pdp.ErrBadRequest)
	}
	return NewAuthZENRequest(in)
}

// addMembers adds one attribute per member of m (and its alias) but skip,
// in key order so that the request does not depend on the JSON's member
// order. path names the object in error messages only, so member paths are
// built only when a value is refused.
func addMembers(req *pdp.Request, category, path string, m map[string]any, skip string, aliases map[string]string) error {
	var buf [16]string
	for _, k := range sortedKeys(buf[:0], m) {
		if k == skip {
			continue
		}
		if err := addJSON(req, category, k, m[k]); err != nil {
			return prefixPath(path+"."+k, err)
		}
		if alias, ok := aliases[k]; ok {
			if err := addJSON(req, category, alias, m[k]); err != nil {
				return prefixPath(path+"."+k, err)
			}
		}
	}
	return nil
}

// sortedKeys appends the keys of m to dst, sorted; with a dst of enough
// capacity on the caller's stack, small objects cost no allocation.
func sortedKeys(dst []string, m map[string]any) []string {
	for k := range m {
		dst = append(dst, k)
	}
	slices.Sort(dst)
	return dst
}

// pathError is a refused value, with the path from the member that holds
// it down to the value (built from the inside out as the error returns).
type pathError struct {
	path string
	err  error
}

func (e *pathError) Error() string {
	return fmt.Sprintf("%s: %s: %v", pdp.ErrBadRequest, e.path, e.err)
}

func (e *pathError) Unwrap() []error { return []error{pdp.ErrBadRequest, e.err} }

// prefixPath puts path in front of the path err carries.
func prefixPath(path string, err error) error {
	var pe *pathError
	if errors.As(err, &pe) {
		if pe.path != "" {
			path += "." + pe.path
		}
		return &pathError{path: path, err: pe.err}
	}
	return err
}

// addJSON adds the JSON value v as attribute id. XACML has no object type:
// an object's members become attributes "id.member", recursively; an array
// is a bag, whose objects are flattened the same way.
func addJSON(req *pdp.Request, category, id string, v any) error {
	switch x := v.(type) {
	case nil:
		return nil
	case map[string]any:
		var buf [16]string
		for _, k := range sortedKeys(buf[:0], x) {
			if err := addJSON(req, category, id+"."+k, x[k]); err != nil {
				return prefixPath(k, err)
			}
		}
		return nil
	case []any:
		var scalars []any
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				if err := addJSON(req, category, id, e); err != nil {
					return err
				}
			default:
				scalars = append(scalars, e)
			}
		}
		if scalars == nil {
			return nil
		}
		v = scalars
	}
	vals, err := pdp.JSONValues(v)
	if err != nil {
		return &pathError{err: err}
	}
	if len(vals) > 0 {
		req.Add(category, id, vals...)
	}
	return nil
}
