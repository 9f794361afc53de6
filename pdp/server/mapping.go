package server

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/verdict-authz/verdict/pdp"
)

// Standard XACML identifiers under which the AuthZEN identifiers are also
// exposed (see the package documentation).
const (
	subjectIDAttribute  = "urn:oasis:names:tc:xacml:1.0:subject:subject-id"
	resourceIDAttribute = "urn:oasis:names:tc:xacml:1.0:resource:resource-id"
	actionIDAttribute   = "urn:oasis:names:tc:xacml:1.0:action:action-id"
)

// entity is one AuthZEN subject, action or resource, whichever protocol
// carried it: its top-level members other than "properties", and the
// members of "properties". Values are decoded JSON (json.Number for
// numbers) or, from protobuf Structs, float64.
type entity struct {
	fields map[string]any
	props  map[string]any
}

// str returns the string member key, or "" when it is absent or not a string.
func (e *entity) str(key string) string {
	if e == nil {
		return ""
	}
	s, _ := e.fields[key].(string)
	return s
}

// evaluation is one access request in AuthZEN's shape: the 4-tuple.
type evaluation struct {
	subject, action, resource *entity
	context                   map[string]any
}

// merged returns the batch item it with the defaults def applied: an
// entity the item sets replaces the default entity, except for required
// members it lacks; an absent entity or context is the default's.
func (it evaluation) merged(def evaluation) evaluation {
	out := it
	out.subject = mergeEntity(it.subject, def.subject, "type", "id")
	out.action = mergeEntity(it.action, def.action, "name")
	out.resource = mergeEntity(it.resource, def.resource, "type", "id")
	if it.context == nil {
		out.context = def.context
	}
	return out
}

func mergeEntity(item, def *entity, required ...string) *entity {
	if item == nil {
		return def
	}
	if def == nil {
		return item
	}
	var out *entity
	for _, k := range required {
		if _, ok := item.fields[k]; ok {
			continue
		}
		v, ok := def.fields[k]
		if !ok {
			continue
		}
		if out == nil {
			out = &entity{fields: make(map[string]any, len(item.fields)+len(required)), props: item.props}
			for fk, fv := range item.fields {
				out.fields[fk] = fv
			}
		}
		out.fields[k] = v
	}
	if out == nil {
		return item
	}
	return out
}

// requirement names the members an evaluation must have; the search APIs
// relax it for the entity searched.
type requirement struct {
	subjectID, resourceID, action bool
	// subjectOptional lets a bearer token stand for the subject.
	subjectOptional bool
}

var fullRequirement = requirement{subjectID: true, resourceID: true, action: true}

// check reports the first required member that is missing or empty, in
// the field-path form error messages use (prefix "" or "evaluations[3].").
func (ev evaluation) check(prefix string, req requirement) error {
	type need struct {
		e    *entity
		name string
		keys []string
		want bool
	}
	needs := []need{
		{ev.subject, "subject", []string{"type", "id"}, true},
		{ev.action, "action", []string{"name"}, req.action},
		{ev.resource, "resource", []string{"type", "id"}, true},
	}
	for _, n := range needs {
		if !n.want || (n.name == "subject" && n.e == nil && req.subjectOptional) {
			continue
		}
		if n.e == nil {
			return fmt.Errorf("%s%s is required", prefix, n.name)
		}
		for _, k := range n.keys {
			if k == "id" && ((n.name == "subject" && !req.subjectID) || (n.name == "resource" && !req.resourceID)) {
				continue
			}
			if n.e.str(k) == "" {
				return fmt.Errorf("%s%s.%s is required (a non-empty string)", prefix, n.name, k)
			}
		}
	}
	return nil
}

// request maps the evaluation to engine attributes (contract 3).
func (ev evaluation) request() (*pdp.Request, error) {
	req := &pdp.Request{Attributes: make([]pdp.Attribute, 0, 12)}
	if err := addEntity(req, pdp.CategorySubject, "subject", ev.subject, "id", subjectIDAttribute); err != nil {
		return nil, err
	}
	if err := addEntity(req, pdp.CategoryAction, "action", ev.action, "name", actionIDAttribute); err != nil {
		return nil, err
	}
	if err := addEntity(req, pdp.CategoryResource, "resource", ev.resource, "id", resourceIDAttribute); err != nil {
		return nil, err
	}
	if err := addMembers(req, pdp.CategoryEnvironment, "context", ev.context, "", ""); err != nil {
		return nil, err
	}
	return req, nil
}

// addEntity adds the members of e; the member aliasKey is also added
// under the standard XACML identifier alias.
func addEntity(req *pdp.Request, category, path string, e *entity, aliasKey, alias string) error {
	if e == nil {
		return nil
	}
	if err := addMembers(req, category, path, e.fields, aliasKey, alias); err != nil {
		return err
	}
	return addMembers(req, category, path+".properties", e.props, "", "")
}

// sortedKeys returns the keys of m in order, in buf when they fit.
func sortedKeys(m map[string]any, buf []string) []string {
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// addMembers adds one attribute per member of m, in key order so that the
// request is the same whatever order the JSON had. path names m in error
// messages; it is only joined with a member's key when that member fails.
func addMembers(req *pdp.Request, category, path string, m map[string]any, aliasKey, alias string) error {
	if len(m) == 0 {
		return nil
	}
	var buf [8]string
	for _, k := range sortedKeys(m, buf[:]) {
		if err := addValue(req, category, path, k, k, m[k]); err != nil {
			return err
		}
		if alias != "" && k == aliasKey {
			if err := addValue(req, category, path, k, alias, m[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// addValue adds the JSON value v as attribute id; path+"."+key names it
// in errors. Objects have no XACML type: their members become attributes
// "id.member", recursively; arrays are bags (objects inside them are
// flattened the same way).
func addValue(req *pdp.Request, category, path, key, id string, v any) error {
	switch x := v.(type) {
	case string:
		// The common case, without JSONValues' slice per value.
		req.Add(category, id, pdp.Value{Type: "string", Lexical: x, Untyped: true})
		return nil
	case map[string]any:
		var buf [8]string
		inner := path + "." + key
		for _, k := range sortedKeys(x, buf[:]) {
			if err := addValue(req, category, inner, k, id+"."+k, x[k]); err != nil {
				return err
			}
		}
		return nil
	case []any:
		var scalars []any
		for _, e := range x {
			switch e.(type) {
			case map[string]any, []any:
				if err := addValue(req, category, path, key, id, e); err != nil {
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
	case nil:
		return nil
	}
	vals, err := pdp.JSONValues(v)
	if err != nil {
		return fmt.Errorf("%s.%s: %w", path, key, err)
	}
	if len(vals) > 0 {
		req.Add(category, id, vals...)
	}
	return nil
}

// TokenValidator validates a caller's bearer token (a compact JWT) and
// returns its claims as access-subject attributes, the way DESIGN.md's
// attribute table maps them (token.Claims.Attributes does exactly that):
// attribute id → bag of string, bool, int64, float64 or json.Number. It is
// one method so that cmd can adapt token.Verifier without this package
// importing it.
type TokenValidator interface {
	Validate(ctx context.Context, token string) (map[string][]any, error)
}

// addClaims adds validated token attributes to the access-subject category.
func addClaims(req *pdp.Request, attrs map[string][]any) error {
	ids := make([]string, 0, len(attrs))
	for id := range attrs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		vals := make([]pdp.Value, 0, len(attrs[id]))
		for _, x := range attrs[id] {
			vs, err := pdp.JSONValues(x)
			if err != nil {
				return fmt.Errorf("token claim %s: %w", id, err)
			}
			vals = append(vals, vs...)
		}
		if len(vals) > 0 {
			req.Add(pdp.CategorySubject, id, vals...)
		}
	}
	return nil
}
