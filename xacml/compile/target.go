package compile

import (
	"fmt"
	"strings"

	"github.com/verdict-authz/verdict/xacml"
)

// target emits rule `name` evaluating to "M", "N" or "I", and its status
// rule s_<name> (consulted only when the target is Indeterminate).
func (g *pkgGen) target(name string, t *xacml.Target) (string, error) {
	if t == nil || len(t.AnyOf) == 0 {
		g.printf("\n%s := \"M\"\n", name)
		return quote(statusProcessing), nil
	}
	branches, bags, fast := g.fastTarget(t)
	var anyOfs []string
	var exprs []xacml.Expr
	for _, any := range t.AnyOf {
		var allOfs []string
		for _, all := range any.AllOf {
			var matches []string
			for _, m := range all.Matches {
				var term string
				if fast {
					// The general form of a fast match, for the fallback
					// only: no rule of its own, which keeps the module (and
					// OPA's compile time) small.
					lit, bag, err := g.fastMatchTerms(m)
					if err != nil {
						return "", err
					}
					term = "lib.memb(" + lit + ", [b | b := " + bag + "])"
				} else {
					mname, err := g.match(m)
					if err != nil {
						return "", err
					}
					term = mname
				}
				matches = append(matches, term)
				exprs = append(exprs, m.Attribute)
			}
			allOfs = append(allOfs, combine3("all3", matches))
		}
		anyOfs = append(anyOfs, combine3("any3", allOfs))
	}
	generic := combine3("all3", anyOfs)
	if fast {
		var parts []string
		for _, b := range branches {
			parts = append(parts, "\"M\" if {\n\t"+strings.Join(stmtTexts(b), "\n\t")+"\n}")
		}
		parts = append(parts, "\"N\" if {\n\t"+strings.Join(bags, "\n\t")+"\n}")
		g.printf("\n%s := %s else := x if {\n\tx := %s\n}\n", name, strings.Join(parts, " else := "), generic)
	} else {
		g.printf("\n%s := x if {\n\tx := %s\n}\n", name, generic)
	}
	return g.statusTerm(exprs...), nil
}

// fastMatchTerms renders the literal and the bag of a fast match.
func (g *pkgGen) fastMatchTerms(m *xacml.Match) (lit, bag string, err error) {
	if lit, err = g.expr(m.Value); err != nil {
		return "", "", err
	}
	bag, err = g.expr(m.Attribute)
	return lit, bag, err
}

// maxTargetBranches bounds the disjunctive normal form of a fast target.
const maxTargetBranches = 32

// fastStmt is one membership test of a fast target: lit in the bag of the
// designated attribute attr (whose rule is bag), or a raw statement (attr
// -1).
type fastStmt struct {
	lit, bag, raw string
	attr          int
}

// text renders the test on the attribute's bag rule.
func (s fastStmt) text() string {
	if s.raw != "" {
		return s.raw
	}
	return s.lit + " in " + s.bag
}

func stmtTexts(b []fastStmt) []string {
	out := make([]string, len(b))
	for i, s := range b {
		out[i] = s.text()
	}
	return out
}

// fastTarget renders the common case of a target made of equality matches
// on native types as plain membership tests, which OPA evaluates with a few
// builtin calls: "M" when some branch of the target's disjunctive normal
// form holds, "N" when none does and every bag involved is defined. Such a
// match can only be Indeterminate when its bag is (a required attribute
// absent, a PIP failure); that case, and only it, falls through to the
// general tri-state rules.
func (g *pkgGen) fastTarget(t *xacml.Target) (branches [][]fastStmt, bags []string, ok bool) {
	if t == nil || len(t.AnyOf) == 0 {
		return [][]fastStmt{nil}, nil, true
	}
	branches = [][]fastStmt{nil}
	seen := map[string]bool{}
	for _, any := range t.AnyOf {
		var next [][]fastStmt
		for _, all := range any.AllOf {
			var stmts []fastStmt
			for _, m := range all.Matches {
				stmt, good := g.fastMatch(m)
				if !good {
					return nil, nil, false
				}
				stmts = append(stmts, stmt)
				if !seen[stmt.bag] {
					seen[stmt.bag] = true
					bags = append(bags, stmt.bag)
				}
			}
			for _, b := range branches {
				next = append(next, append(append([]fastStmt(nil), b...), stmts...))
			}
			if len(next) > maxTargetBranches {
				return nil, nil, false
			}
		}
		branches = next
	}
	return branches, bags, true
}

// fastMatch renders a match as one membership statement when its function
// is equality on a type Rego compares natively.
func (g *pkgGen) fastMatch(m *xacml.Match) (fastStmt, bool) {
	fi, found := g.c.checked.Funcs.Lookup(m.FunctionID)
	if !found || fi.Op != xacml.OpEqual {
		return fastStmt{}, false
	}
	switch fi.DataType {
	case xacml.TypeString, xacml.TypeBoolean, xacml.TypeInteger, xacml.TypeAnyURI:
	default:
		return fastStmt{}, false
	}
	d, isDesignator := m.Attribute.(*xacml.AttributeDesignator)
	if !isDesignator {
		return fastStmt{}, false
	}
	lit, err := g.expr(m.Value)
	if err != nil {
		return fastStmt{}, false
	}
	bag, err := g.expr(m.Attribute)
	if err != nil {
		return fastStmt{}, false
	}
	return fastStmt{lit: lit, bag: bag, attr: g.c.attr(d)}, true
}

// combine3 joins tri-state terms with a prelude function, skipping the call
// for a single term.
func combine3(fn string, terms []string) string {
	if len(terms) == 1 {
		return terms[0]
	}
	return "lib." + fn + "([" + strings.Join(terms, ", ") + "])"
}

// match emits a rule for one <Match>: the function applied to the literal
// and each value of the attribute's bag.
func (g *pkgGen) match(m *xacml.Match) (string, error) {
	fi, ok := g.c.checked.Funcs.Lookup(m.FunctionID)
	if !ok {
		return "", posErr(m.Pos, fmt.Errorf("unknown function %q", m.FunctionID))
	}
	lit, err := g.expr(m.Value)
	if err != nil {
		return "", err
	}
	bag, err := g.expr(m.Attribute)
	if err != nil {
		return "", err
	}
	call, err := g.call(fi, []string{lit, "e"}, m.Pos)
	if err != nil {
		return "", err
	}
	name := g.fresh("m")
	g.printf("\n%s := \"M\" if {\n\tsome e in %s\n\t%s == true\n} else := \"N\" if {\n\tb := %s\n\tevery e in b {\n\t\t%s == false\n\t}\n} else := \"I\"\n", name, bag, call, bag, call)
	return name, nil
}

// statusTerm returns a term for the status code of an Indeterminate caused
// by the given expressions: a required attribute with an empty bag means
// missing-attribute, anything else is a processing error. When no required
// attribute is involved the term is a constant and no rule is emitted.
func (g *pkgGen) statusTerm(exprs ...xacml.Expr) string {
	var refs []string
	seen := map[string]bool{}
	for _, e := range exprs {
		g.requiredAttrs(e, seen, &refs, map[string]bool{})
	}
	if len(refs) == 0 {
		return quote(statusProcessing)
	}
	name := g.fresh("st")
	g.printf("\n%s := %q if {\n\tcount(%s) == 0\n}", name, statusMissing, refs[0])
	for _, r := range refs[1:] {
		g.printf(" else := %q if {\n\tcount(%s) == 0\n}", statusMissing, r)
	}
	g.printf(" else := %q\n", statusProcessing)
	return name
}

// requiredAttrs collects the bag rules of MustBePresent designators in e,
// following variable references.
func (g *pkgGen) requiredAttrs(e xacml.Expr, seen map[string]bool, refs *[]string, visiting map[string]bool) {
	switch x := e.(type) {
	case *xacml.AttributeDesignator:
		if x.MustBePresent {
			r := fmt.Sprintf("data.verdict.a.b%d", g.c.attr(x))
			if !seen[r] {
				seen[r] = true
				*refs = append(*refs, r)
			}
		}
	case *xacml.Apply:
		for _, a := range x.Args {
			g.requiredAttrs(a, seen, refs, visiting)
		}
	case *xacml.VariableReference:
		if visiting[x.VariableID] {
			return
		}
		visiting[x.VariableID] = true
		if def, ok := g.varDefs[x.VariableID]; ok {
			g.requiredAttrs(def.Expr, seen, refs, visiting)
		}
	}
}
