package compile

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/verdict-authz/verdict/xacml"
)

// pkgGen writes the Rego package of one Policy or PolicySet.
type pkgGen struct {
	c    *compiler
	name string
	// pb is the element's package (verdict.p.<name>): target, combination,
	// result. rb is its rule package (verdict.r.<name>): variables, rules
	// and their helpers, kept apart so that the combination can reach rules
	// by name (the target index) without a dependency cycle. cb holds the
	// children aliases of an indexed PolicySet (verdict.c.<name>).
	pb, rb, cb strings.Builder
	// out is where printf writes.
	out *strings.Builder
	n   int
	// vars maps a VariableId to its rule name.
	vars map[string]string
	// varDefs maps a VariableId to its definition, for status diagnosis.
	varDefs map[string]*xacml.VariableDefinition
}

func (g *pkgGen) printf(format string, args ...any) { fmt.Fprintf(g.out, format, args...) }

// fresh returns a new identifier unique within the package.
func (g *pkgGen) fresh(prefix string) string {
	g.n++
	return prefix + strconv.Itoa(g.n)
}

func (g *pkgGen) policy(p *xacml.Policy) error {
	alg, err := combinerFor(p.CombiningAlg, xacml.KindPolicy)
	if err != nil {
		return posErr(p.Pos, err)
	}
	g.varDefs = map[string]*xacml.VariableDefinition{}
	for i, v := range p.Variables {
		g.vars[v.ID] = "v" + strconv.Itoa(i)
		g.varDefs[v.ID] = v
	}
	g.out = &g.rb
	for i, v := range p.Variables {
		term, err := g.expr(v.Expr)
		if err != nil {
			return err
		}
		g.printf("\nv%d := x if {\n\tx := %s\n}\n", i, term)
	}
	names := make([]string, len(p.Rules))
	targets := make([]*xacml.Target, len(p.Rules))
	for i, r := range p.Rules {
		names[i] = "r" + strconv.Itoa(i)
		targets[i] = r.Target
		if err := g.rule(names[i], r); err != nil {
			return err
		}
	}
	indexed := g.index(names, targets)
	g.out = &g.pb
	if err := g.target("t", p.Target); err != nil {
		return err
	}
	rpkg := "data.verdict.r." + g.name
	if indexed {
		g.printf("\nrs := [%s[n] | some i in %s.cands; n := %s.names[i]]\n", rpkg, rpkg, rpkg)
	} else {
		refs := make([]string, len(names))
		for i, n := range names {
			refs[i] = rpkg + "." + n
		}
		g.printf("\nrs := [%s]\n", strings.Join(refs, ", "))
	}
	g.printf("\ncomb := lib.%s(rs)\n", alg.fn)
	if err := g.result(p.Obligations, p.Advice); err != nil {
		return err
	}
	id, version := p.Identity()
	g.printf("\npi := [] if {\n\tresult.d == \"NA\"\n} else := [{\"k\": \"Policy\", \"id\": %s, \"v\": %s}]\n", quote(id), quote(version))
	return nil
}

func (g *pkgGen) policySet(p *xacml.PolicySet) error {
	alg, err := combinerFor(p.CombiningAlg, xacml.KindPolicySet)
	if err != nil {
		return posErr(p.Pos, err)
	}
	g.out = &g.pb
	if err := g.target("t", p.Target); err != nil {
		return err
	}
	var results, targets, pis, aliases []string
	var childTargets []*xacml.Target
	for i, ch := range p.Children {
		e, err := g.c.resolveChild(ch)
		if err != nil {
			return posErr(p.Pos, err)
		}
		pkg, err := g.c.pkgFor(e)
		if err != nil {
			return err
		}
		results = append(results, "data.verdict.p."+pkg+".result")
		targets = append(targets, "data.verdict.p."+pkg+".t")
		pis = append(pis, "data.verdict.p."+pkg+".pi")
		aliases = append(aliases, "c"+strconv.Itoa(i))
		switch x := e.(type) {
		case *xacml.Policy:
			childTargets = append(childTargets, x.Target)
		case *xacml.PolicySet:
			childTargets = append(childTargets, x.Target)
		}
	}
	indexed := false
	if !alg.onlyOne {
		g.out = &g.cb
		if indexed = g.index(aliases, childTargets); indexed {
			for i, a := range aliases {
				g.printf("\n%s := %s\n", a, results[i])
			}
		}
		g.out = &g.pb
	}
	if indexed {
		cpkg := "data.verdict.c." + g.name
		g.printf("\nrs := [%s[n] | some i in %s.cands; n := %s.names[i]]\n", cpkg, cpkg, cpkg)
	} else {
		g.printf("\nrs := [%s]\n", strings.Join(results, ", "))
	}
	if alg.onlyOne {
		g.printf("\ncomb := lib.%s([%s], rs)\n", alg.fn, strings.Join(targets, ", "))
	} else {
		g.printf("\ncomb := lib.%s(rs)\n", alg.fn)
	}
	if err := g.result(p.Obligations, p.Advice); err != nil {
		return err
	}
	id, version := p.Identity()
	self := fmt.Sprintf("[{\"k\": \"PolicySet\", \"id\": %s, \"v\": %s}]", quote(id), quote(version))
	g.printf("\npi := [] if {\n\tresult.d == \"NA\"\n} else := lib.flat([%s])\n", strings.Join(append([]string{self}, pis...), ", "))
	return nil
}

// result emits the policy-level result: the target applied to the combined
// children, plus the element's own obligations and advice for the decision.
func (g *pkgGen) result(obls, advice []*xacml.EffectExpression) error {
	g.printf("\nresult := lib.na if {\n\tt == \"N\"\n} else := x if {\n\tt == \"M\"\n\tx := own\n} else := lib.target_indeterminate(comb, s_t)\n")
	var branches []string
	for _, eff := range []xacml.Effect{xacml.Permit, xacml.Deny} {
		o, err := g.effectExprs(obls, eff)
		if err != nil {
			return err
		}
		a, err := g.effectExprs(advice, eff)
		if err != nil {
			return err
		}
		if o == "[]" && a == "[]" {
			continue
		}
		code := effectCode(eff)
		branches = append(branches, fmt.Sprintf("x if {\n\tcomb.d == %q\n\to := %s\n\ta := %s\n\tx := {\"d\": %q, \"o\": array.concat(comb.o, o), \"a\": array.concat(comb.a, a)}\n} else := {\"d\": \"I%s\", \"s\": %q} if {\n\tcomb.d == %q\n}", code, o, a, code, code, statusProcessing, code))
	}
	if len(branches) == 0 {
		g.printf("\nown := comb\n")
		return nil
	}
	g.printf("\nown := %s else := comb\n", strings.Join(branches, " else := "))
	return nil
}

func effectCode(e xacml.Effect) string {
	if e == xacml.Deny {
		return "D"
	}
	return "P"
}

// rule emits a rule's result object "name".
func (g *pkgGen) rule(name string, r *xacml.Rule) error {
	code := effectCode(r.Effect)
	tname := "t_" + name
	if err := g.target(tname, r.Target); err != nil {
		return err
	}
	o, err := g.effectExprs(r.Obligations, r.Effect)
	if err != nil {
		return err
	}
	a, err := g.effectExprs(r.Advice, r.Effect)
	if err != nil {
		return err
	}
	var cond string
	if r.Condition != nil {
		// Render the condition before printing the rule: rendering may emit
		// helper functions, which must not land inside the rule's text.
		if cond, err = g.expr(r.Condition); err != nil {
			return err
		}
	}
	g.printf("\n%s := lib.na if {\n\t%s == \"N\"\n} else := {\"d\": \"I%s\", \"s\": s_%s} if {\n\t%s == \"I\"\n}", name, tname, code, tname, tname)
	cname := "c_" + name
	if r.Condition != nil {
		g.printf(" else := lib.na if {\n\t%s == false\n} else := {\"d\": \"I%s\", \"s\": s_%s} if {\n\t%s == \"I\"\n}", cname, code, cname, cname)
	}
	g.printf(" else := x if {\n\to := %s\n\ta := %s\n\tx := {\"d\": %q, \"o\": o, \"a\": a}\n} else := {\"d\": \"I%s\", \"s\": %q}\n", o, a, code, code, statusProcessing)
	if r.Condition != nil {
		g.printf("\n%s := x if {\n\tx := %s\n} else := \"I\"\n", cname, cond)
		g.status("s_"+cname, r.Condition)
	}
	return nil
}

// effectExprs renders the obligations (or advice) that apply to an effect
// as a Rego array term; "[]" when there are none.
func (g *pkgGen) effectExprs(list []*xacml.EffectExpression, eff xacml.Effect) (string, error) {
	var items []string
	for _, ex := range list {
		if ex.Effect != eff {
			continue
		}
		var parts []string
		for _, as := range ex.Assignments {
			term, err := g.expr(as.Expr)
			if err != nil {
				return "", err
			}
			t := g.c.checked.Types[as.Expr]
			short := xacml.ShortTypeName(canonical(t.DataType))
			if t.Bag {
				parts = append(parts, fmt.Sprintf("lib.bag_assign(%s, %s, %s, %s, %s)", term, quote(as.AttributeID), quote(as.Category), quote(as.Issuer), quote(short)))
			} else {
				parts = append(parts, fmt.Sprintf("[{\"id\": %s, \"c\": %s, \"i\": %s, \"t\": %s, \"v\": %s}]", quote(as.AttributeID), quote(as.Category), quote(as.Issuer), quote(short), term))
			}
		}
		as := "[]"
		switch len(parts) {
		case 0:
		case 1:
			as = parts[0]
		default:
			as = "lib.flat([" + strings.Join(parts, ", ") + "])"
		}
		items = append(items, fmt.Sprintf("{\"id\": %s, \"as\": %s}", quote(ex.ID), as))
	}
	return "[" + strings.Join(items, ", ") + "]", nil
}

func canonical(dt string) string {
	if c, ok := xacml.CanonicalDataType(dt); ok {
		return c
	}
	return dt
}

func posErr(p xacml.Pos, err error) error {
	return &xacml.Error{Pos: p, Msg: err.Error()}
}
