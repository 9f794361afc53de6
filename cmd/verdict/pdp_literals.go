package main

import (
	"slices"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/xacml"
)

const (
	xsString      = "http://www.w3.org/2001/XMLSchema#string"
	xacmlActionID = "urn:oasis:names:tc:xacml:1.0:action:action-id"
	xacmlSubject  = "urn:oasis:names:tc:xacml:1.0:subject:subject-id"
	xacmlResource = "urn:oasis:names:tc:xacml:1.0:resource:resource-id"
)

// literals are the string values a policy compares with the AuthZEN
// identifiers: the candidates of the Action Search API, the entity types
// the policy knows (so that a search for an unknown type is empty) and the
// entity ids it names (search candidates when no PIP lists entities).
type literals struct {
	actions, subjectTypes, resourceTypes, subjectIDs, resourceIDs []string
}

// policyLiterals walks the checked policy tree from its root (following
// references) and collects string literals compared with the action
// "name" (or action-id), the subject and resource "type" and "id" (or
// subject-id, resource-id) attributes: in Match elements, and in Apply
// calls that take both the designator (directly or inside a call such as
// one-and-only) and the literal (directly or inside a bag constructor).
func policyLiterals(c *xacml.Checked) literals {
	w := &literalWalker{checked: c, seen: map[xacml.Evaluable]bool{}, found: map[[2]string][]string{}}
	w.evaluable(c.Root)
	get := func(cat string, ids ...string) []string {
		var out []string
		for _, id := range ids {
			out = append(out, w.found[[2]string{cat, id}]...)
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return literals{
		actions:       get(pdp.CategoryAction, "name", xacmlActionID),
		subjectTypes:  get(pdp.CategorySubject, "type"),
		resourceTypes: get(pdp.CategoryResource, "type"),
		subjectIDs:    get(pdp.CategorySubject, "id", xacmlSubject),
		resourceIDs:   get(pdp.CategoryResource, "id", xacmlResource),
	}
}

type literalWalker struct {
	checked *xacml.Checked
	seen    map[xacml.Evaluable]bool
	found   map[[2]string][]string
}

func (w *literalWalker) evaluable(e xacml.Evaluable) {
	if e == nil || w.seen[e] {
		return
	}
	w.seen[e] = true
	switch p := e.(type) {
	case *xacml.PolicySet:
		w.target(p.Target)
		for _, ch := range p.Children {
			switch c := ch.(type) {
			case xacml.Evaluable:
				w.evaluable(c)
			case *xacml.Reference:
				w.evaluable(w.checked.Refs[c])
			}
		}
	case *xacml.Policy:
		w.target(p.Target)
		for _, v := range p.Variables {
			w.expr(v.Expr)
		}
		for _, r := range p.Rules {
			w.target(r.Target)
			w.expr(r.Condition)
		}
	}
}

func (w *literalWalker) target(t *xacml.Target) {
	if t == nil {
		return
	}
	for _, anyOf := range t.AnyOf {
		for _, all := range anyOf.AllOf {
			for _, m := range all.Matches {
				if d, ok := m.Attribute.(*xacml.AttributeDesignator); ok && m.Value != nil {
					w.add(d, m.Value)
				}
			}
		}
	}
}

func (w *literalWalker) add(d *xacml.AttributeDesignator, v *xacml.AttributeValue) {
	if v.DataType != xsString || d.DataType != xsString {
		return
	}
	k := [2]string{d.Category, d.AttributeID}
	w.found[k] = append(w.found[k], v.Value)
}

func (w *literalWalker) expr(e xacml.Expr) {
	a, ok := e.(*xacml.Apply)
	if !ok {
		return
	}
	var ds []*xacml.AttributeDesignator
	var vs []*xacml.AttributeValue
	collect := func(x xacml.Expr) {
		switch y := x.(type) {
		case *xacml.AttributeDesignator:
			ds = append(ds, y)
		case *xacml.AttributeValue:
			vs = append(vs, y)
		}
	}
	for _, arg := range a.Args {
		collect(arg)
		if inner, ok := arg.(*xacml.Apply); ok {
			for _, x := range inner.Args {
				collect(x)
			}
		}
	}
	for _, d := range ds {
		for _, v := range vs {
			w.add(d, v)
		}
	}
	for _, arg := range a.Args {
		w.expr(arg)
	}
}
