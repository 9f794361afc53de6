package pdp

import (
	"fmt"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/verdict-authz/verdict/pdp/xacmlfn"
)

// catID keys designated attributes by category and id.
type catID struct{ cat, id string }

// inputBuilder turns a Request into the Rego input of the compile contract,
// directly as ast values (no JSON round trip). Two layouts exist (see
// xacml/compile): input["<i>"], the bag of the policy's i-th designated
// attribute, which compiled policies read; and input.a / input.ai, bags by
// category, id and type (and issuer), which hand-written policies and
// bundles compiled before the flat layout read. The builder fills those
// the policy's modules refer to.
type inputBuilder struct {
	// flat and nested say which layouts the policy reads.
	flat, nested bool
	// specs are the designated attributes, by category and id, with
	// their position in the policy's list: the flat layout's keys.
	specs map[catID][]flatSpec

	// designated lists, per attribute, the types the policy asks for.
	designated map[catID][]string
	// complete is set when designated lists every attribute the policy
	// reads: the others are then left out of the input, which they would
	// only make slower to build.
	complete bool
	// keys holds the ast terms of the category, attribute and type names
	// the policy designates, built once: they are the keys of every input
	// object, and terms are never modified during evaluation.
	keys map[string]*ast.Term
}

// key returns the term of an object key, shared when the policy knows it.
func (ib *inputBuilder) key(s string) *ast.Term {
	if t, ok := ib.keys[s]; ok {
		return t
	}
	return ast.StringTerm(s)
}

// flatSpec is one designated attribute of the flat layout.
type flatSpec struct {
	typ, issuer string
	// key is input's key for the attribute's bag.
	key *ast.Term
}

func newInputBuilder(specs []AttributeSpec, complete, flat, nested bool) *inputBuilder {
	b := &inputBuilder{designated: map[catID][]string{}, complete: complete, keys: map[string]*ast.Term{},
		flat: flat, nested: nested, specs: map[catID][]flatSpec{}}
	for i, s := range specs {
		k := catID{s.Category, s.ID}
		b.specs[k] = append(b.specs[k], flatSpec{typ: s.Type, issuer: s.Issuer, key: ast.StringTerm(strconv.Itoa(i))})
	}
	for _, s := range specs {
		for _, k := range []string{s.Category, s.ID, s.Type} {
			if _, ok := b.keys[k]; !ok {
				b.keys[k] = ast.StringTerm(k)
			}
		}
		k := catID{s.Category, s.ID}
		if !contains(b.designated[k], s.Type) {
			b.designated[k] = append(b.designated[k], s.Type)
		}
	}
	return b
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// bags accumulates values per category, id and type. Requests carry a
// handful of attributes, so ordered slices with linear lookups beat maps
// here, and they build the ast objects without intermediate maps.
type bags struct {
	cats []catBag
}

type catBag struct {
	name  string
	attrs []attrBag
}

type attrBag struct {
	id    string
	types []typeBag
}

type typeBag struct {
	typ   string
	terms []*ast.Term
}

func (b *bags) add(cat, id, typ string, t *ast.Term) {
	var c *catBag
	for i := range b.cats {
		if b.cats[i].name == cat {
			c = &b.cats[i]
			break
		}
	}
	if c == nil {
		b.cats = append(b.cats, catBag{name: cat})
		c = &b.cats[len(b.cats)-1]
	}
	var a *attrBag
	for i := range c.attrs {
		if c.attrs[i].id == id {
			a = &c.attrs[i]
			break
		}
	}
	if a == nil {
		c.attrs = append(c.attrs, attrBag{id: id})
		a = &c.attrs[len(c.attrs)-1]
	}
	for i := range a.types {
		if a.types[i].typ == typ {
			a.types[i].terms = append(a.types[i].terms, t)
			return
		}
	}
	a.types = append(a.types, typeBag{typ: typ, terms: []*ast.Term{t}})
}

func (b *bags) object(ib *inputBuilder) ast.Value {
	cats := make([][2]*ast.Term, 0, len(b.cats))
	for _, c := range b.cats {
		idTerms := make([][2]*ast.Term, 0, len(c.attrs))
		for _, a := range c.attrs {
			typeTerms := make([][2]*ast.Term, 0, len(a.types))
			for _, t := range a.types {
				typeTerms = append(typeTerms, ast.Item(ib.key(t.typ), ast.ArrayTerm(t.terms...)))
			}
			idTerms = append(idTerms, ast.Item(ib.key(a.id), ast.ObjectTerm(typeTerms...)))
		}
		cats = append(cats, ast.Item(ib.key(c.name), ast.ObjectTerm(idTerms...)))
	}
	return ast.NewObject(cats...)
}

// build converts a request into the layouts the policy reads.
func (ib *inputBuilder) build(req *Request) (ast.Value, error) {
	var items [][2]*ast.Term
	if ib.flat {
		var err error
		if items, err = ib.flatItems(req); err != nil {
			return nil, err
		}
	}
	if ib.nested {
		nested, err := ib.nestedItems(req)
		if err != nil {
			return nil, err
		}
		items = append(items, nested...)
	}
	return ast.NewObject(items...), nil
}

// flatValue is one value of the flat layout, destined to a bag.
type flatValue struct {
	key  *ast.Term
	term *ast.Term
}

// flatItems builds input["<i>"]: per designated attribute, the request's
// values of its type (and issuer, when it names one). Untyped values are
// also offered under every type the policy designates for their attribute
// when their lexical form is valid there, so a JSON string can satisfy an
// xs:dateTime designator. A bag with no value is left out, so that the
// policy asks its PIPs, as for an attribute the request lacks.
func (ib *inputBuilder) flatItems(req *Request) ([][2]*ast.Term, error) {
	var buf [16]flatValue
	vals := buf[:0]
	for _, a := range req.Attributes {
		specs := ib.specs[catID{a.Category, a.ID}]
		if len(specs) == 0 {
			continue
		}
		for _, v := range a.Values {
			// A typed value must be valid for its type, designated or not.
			var own ast.Value
			if v.Type == "string" {
				own = ast.String(v.Lexical)
			} else {
				var err error
				if own, err = xacmlfn.Value(v.Type, v.Lexical); err != nil {
					return nil, fmt.Errorf("attribute %s of %s: %w", a.ID, a.Category, err)
				}
			}
			var ownTerm *ast.Term
			for _, s := range specs {
				if s.issuer != "" && s.issuer != a.Issuer {
					continue
				}
				var t *ast.Term
				switch {
				case s.typ == v.Type:
					if ownTerm == nil {
						ownTerm = ast.NewTerm(own)
					}
					t = ownTerm
				case v.Untyped:
					c, ok := coerce(v, s.typ)
					if !ok {
						continue
					}
					t = ast.NewTerm(c)
				default:
					continue
				}
				vals = append(vals, flatValue{key: s.key, term: t})
			}
		}
	}
	if len(vals) == 0 {
		return nil, nil
	}
	items := make([][2]*ast.Term, 0, len(vals)+2)
	for i, v := range vals {
		if v.key == nil {
			continue // already in an earlier bag
		}
		n := 1
		for _, w := range vals[i+1:] {
			if w.key == v.key {
				n++
			}
		}
		terms := make([]*ast.Term, 0, n)
		terms = append(terms, v.term)
		for j := i + 1; j < len(vals) && len(terms) < n; j++ {
			if vals[j].key == v.key {
				terms = append(terms, vals[j].term)
				vals[j].key = nil
			}
		}
		items = append(items, [2]*ast.Term{v.key, ast.ArrayTerm(terms...)})
	}
	return items, nil
}

// nestedItems builds input.a and input.ai. Untyped values are also offered
// under every type the policy designates for their attribute when their
// lexical form is valid there.
func (ib *inputBuilder) nestedItems(req *Request) ([][2]*ast.Term, error) {
	var all bags
	var byIssuer map[string]*bags
	for _, a := range req.Attributes {
		want, designated := ib.designated[catID{a.Category, a.ID}]
		if ib.complete && !designated {
			continue
		}
		for _, v := range a.Values {
			var t ast.Value
			if v.Type == "string" {
				// Every text is a valid xs:string: no parsing to do.
				t = ast.String(v.Lexical)
			} else {
				var err error
				if t, err = xacmlfn.Value(v.Type, v.Lexical); err != nil {
					return nil, fmt.Errorf("attribute %s of %s: %w", a.ID, a.Category, err)
				}
			}
			add := func(typ string, term *ast.Term) {
				all.add(a.Category, a.ID, typ, term)
				if a.Issuer != "" {
					if byIssuer == nil {
						byIssuer = map[string]*bags{}
					}
					bi, ok := byIssuer[a.Issuer]
					if !ok {
						bi = &bags{}
						byIssuer[a.Issuer] = bi
					}
					bi.add(a.Category, a.ID, typ, term)
				}
			}
			add(v.Type, ast.NewTerm(t))
			if !v.Untyped {
				continue
			}
			for _, typ := range want {
				if typ == v.Type {
					continue
				}
				if c, ok := coerce(v, typ); ok {
					add(typ, ast.NewTerm(c))
				}
			}
		}
	}
	items := [][2]*ast.Term{{ast.StringTerm("a"), ast.NewTerm(all.object(ib))}}
	if byIssuer != nil {
		// input.ai[category][id][type][issuer]: regroup the issuer bags.
		ai := map[string]map[string]map[string]map[string][]*ast.Term{}
		for iss, bs := range byIssuer {
			for _, c := range bs.cats {
				for _, a := range c.attrs {
					for _, t := range a.types {
						if ai[c.name] == nil {
							ai[c.name] = map[string]map[string]map[string][]*ast.Term{}
						}
						if ai[c.name][a.id] == nil {
							ai[c.name][a.id] = map[string]map[string][]*ast.Term{}
						}
						if ai[c.name][a.id][t.typ] == nil {
							ai[c.name][a.id][t.typ] = map[string][]*ast.Term{}
						}
						ai[c.name][a.id][t.typ][iss] = t.terms
					}
				}
			}
		}
		items = append(items, [2]*ast.Term{ast.StringTerm("ai"), ast.NewTerm(issuerObject(ai))})
	}
	return items, nil
}

func issuerObject(ai map[string]map[string]map[string]map[string][]*ast.Term) ast.Value {
	var cats [][2]*ast.Term
	for cat, ids := range ai {
		var idItems [][2]*ast.Term
		for id, types := range ids {
			var typeItems [][2]*ast.Term
			for typ, issuers := range types {
				var issItems [][2]*ast.Term
				for iss, vals := range issuers {
					issItems = append(issItems, ast.Item(ast.StringTerm(iss), ast.ArrayTerm(vals...)))
				}
				typeItems = append(typeItems, ast.Item(ast.StringTerm(typ), ast.ObjectTerm(issItems...)))
			}
			idItems = append(idItems, ast.Item(ast.StringTerm(id), ast.ObjectTerm(typeItems...)))
		}
		cats = append(cats, ast.Item(ast.StringTerm(cat), ast.ObjectTerm(idItems...)))
	}
	return ast.NewObject(cats...)
}

// coerce converts an untyped value to another type when its lexical form
// is valid there (strings to any type; integers to doubles).
func coerce(v Value, typ string) (ast.Value, bool) {
	switch {
	case v.Type == "string":
	case v.Type == "integer" && typ == "double":
	default:
		return nil, false
	}
	c, err := xacmlfn.Value(typ, v.Lexical)
	if err != nil {
		return nil, false
	}
	return c, true
}

// inputLayout records which input layouts a policy's modules read.
type inputLayout struct{ flat, nested bool }

// scan notes the layouts m refers to: input["<number>"] is the flat one;
// input.a and input.ai the nested one, which is also built whenever the
// module uses input in any other way (hand-written policies).
func (l *inputLayout) scan(m *ast.Module) {
	var visit func(t *ast.Term) bool
	visit = func(t *ast.Term) bool {
		switch v := t.Value.(type) {
		case ast.Ref:
			if !v[0].Equal(ast.InputRootDocument) {
				return false
			}
			if len(v) > 1 {
				if s, ok := v[1].Value.(ast.String); ok && isIndex(string(s)) {
					l.flat = true
				} else {
					l.nested = true
				}
			} else {
				l.nested = true
			}
			for _, x := range v[1:] {
				ast.WalkTerms(x, visit)
			}
			return true
		case ast.Var:
			if v.Equal(ast.InputRootDocument.Value) {
				l.nested = true
			}
		}
		return false
	}
	ast.WalkTerms(m, visit)
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
