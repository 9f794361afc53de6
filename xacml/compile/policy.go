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
	// emptyTarget is set when the element's own target is empty.
	emptyTarget bool
	// light is set while compiling the rules of a policy in light mode.
	light bool
	// noShortcut disables the any_<code> rules (indexed policies, where
	// evaluating every rule's body would defeat the index).
	noShortcut bool
	// anyCodes records which any_<code> rules were emitted.
	anyCodes map[string]bool
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
	// In light mode (no rule has obligations or advice for its effect) a
	// rule's result is its decision code, a string, and the combination is
	// an else chain of set lookups: far less work for OPA than result
	// objects combined by prelude functions.
	chain, light := lightChains[alg.fn]
	for _, r := range p.Rules {
		if !light {
			break
		}
		for _, list := range [][]*xacml.EffectExpression{r.Obligations, r.Advice} {
			for _, ex := range list {
				if ex.Effect == r.Effect {
					light = false
				}
			}
		}
	}
	g.light = light
	g.anyCodes = map[string]bool{}
	threshold := g.c.cfg.indexThreshold
	if threshold <= 0 {
		threshold = defaultIndexThreshold
	}
	g.noShortcut = len(p.Rules) >= threshold
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
	st, err := g.target("t", p.Target)
	if err != nil {
		return err
	}
	g.printf("\ns_t := %s\n", st)
	g.emptyTarget = p.Target == nil || len(p.Target.AnyOf) == 0
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
	if light {
		g.printf("\nds := {r | some r in rs}\n\ndc := %s\n", g.shortcut(alg.fn, rpkg, chain))
		// The status of the first Indeterminate rule, needed only when
		// the combination is Indeterminate.
		if indexed {
			g.printf("\nistat := x if {\n\txs := [%s[concat(\"\", [\"s_\", n])] | some i in %s.cands; n := %s.names[i]; startswith(%s[n], \"I\")]\n\tx := xs[0]\n} else := %q\n", rpkg, rpkg, rpkg, rpkg, statusProcessing)
		} else {
			var parts []string
			for _, n := range names {
				parts = append(parts, fmt.Sprintf("%s.s_%s if {\n\tstartswith(%s.%s, \"I\")\n}", rpkg, n, rpkg, n))
			}
			parts = append(parts, fmt.Sprintf("%q", statusProcessing))
			g.printf("\nistat := %s\n", strings.Join(parts, " else := "))
		}
		g.printf("\ncomb := {\"d\": \"P\", \"o\": [], \"a\": []} if {\n\tdc == \"P\"\n} else := {\"d\": \"D\", \"o\": [], \"a\": []} if {\n\tdc == \"D\"\n} else := lib.na if {\n\tdc == \"NA\"\n} else := {\"d\": dc, \"s\": istat}\n")
	} else {
		g.printf("\nds := {r.d | some r in rs}\n\ncomb := lib.%s(rs, ds)\n", alg.fn)
	}
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
	st, err := g.target("t", p.Target)
	if err != nil {
		return err
	}
	g.printf("\ns_t := %s\n", st)
	g.emptyTarget = p.Target == nil || len(p.Target.AnyOf) == 0
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
		g.printf("\nds := {r.d | some r in rs}\n\ncomb := lib.%s(rs, ds)\n", alg.fn)
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
	if g.emptyTarget {
		// No target: the element always applies.
		g.printf("\nresult := own\n")
	} else {
		g.printf("\nresult := lib.na if {\n\tt == \"N\"\n} else := x if {\n\tt == \"M\"\n\tx := own\n} else := lib.target_indeterminate(comb, s_t)\n")
	}
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
	tst, err := g.target(tname, r.Target)
	if err != nil {
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
	cname := "c_" + name
	if g.light {
		return g.lightRule(name, tname, cname, code, cond, tst, r.Condition, r.Target)
	}
	var cst string
	if r.Condition != nil {
		cst = g.statusTerm(r.Condition)
	}
	g.printf("\n%s := lib.na if {\n\t%s == \"N\"\n} else := {\"d\": \"I%s\", \"s\": %s} if {\n\t%s == \"I\"\n}", name, tname, code, tst, tname)
	if r.Condition != nil {
		g.printf(" else := lib.na if {\n\t%s == false\n} else := {\"d\": \"I%s\", \"s\": %s} if {\n\t%s == \"I\"\n}", cname, code, cst, cname)
	}
	if o == "[]" && a == "[]" {
		// Nothing to evaluate: the effect is a constant.
		g.printf(" else := {\"d\": %q, \"o\": [], \"a\": []}\n", code)
	} else {
		g.printf(" else := x if {\n\to := %s\n\ta := %s\n\tx := {\"d\": %q, \"o\": o, \"a\": a}\n} else := {\"d\": \"I%s\", \"s\": %q}\n", o, a, code, code, statusProcessing)
	}
	if r.Condition != nil {
		if chain, ok, err := g.logicChain(r.Condition); err != nil {
			return err
		} else if ok {
			g.printf("\n%s := %s else := \"I\"\n", cname, chain)
		} else {
			g.printf("\n%s := x if {\n\tx := %s\n} else := \"I\"\n", cname, cond)
		}
	}
	return nil
}

// lightRule emits a rule whose result is its decision code ("NA", the
// effect, or "I" + effect) and s_<name>, the status of an Indeterminate.
func (g *pkgGen) lightRule(name, tname, cname, code, cond, tst string, condition xacml.Expr, target *xacml.Target) error {
	// any_<code> holds when some rule yields its effect: one body per
	// branch of the rule's target, so OPA stops at the first that holds.
	if !g.noShortcut {
		branches, _, ok := g.fastTarget(target)
		if !ok {
			branches = [][]string{{tname + ` == "M"`}}
		}
		for _, b := range branches {
			stmts := append([]string(nil), b...)
			if condition != nil {
				stmts = append(stmts, cname+" == true")
			}
			if len(stmts) == 0 {
				stmts = []string{"true"}
			}
			g.printf("\nany_%s if {\n\t%s\n}\n", code, strings.Join(stmts, "\n\t"))
		}
		g.anyCodes[code] = true
	}
	// Emit helper rules before the rule's own text.
	var cst string
	if condition != nil {
		cst = g.statusTerm(condition)
	}
	g.printf("\n%s := \"NA\" if {\n\t%s == \"N\"\n} else := \"I%s\" if {\n\t%s == \"I\"\n}", name, tname, code, tname)
	if condition == nil {
		g.printf(" else := %q\n", code)
		g.printf("\ns_%s := %s\n", name, tst)
		return nil
	}
	g.printf(" else := \"NA\" if {\n\t%s == false\n} else := \"I%s\" if {\n\t%s == \"I\"\n} else := %q\n", cname, code, cname, code)
	g.printf("\ns_%s := %s if {\n\t%s == \"I\"\n} else := %s\n", name, tst, tname, cst)
	if chain, ok, err := g.logicChain(condition); err != nil {
		return err
	} else if ok {
		g.printf("\n%s := %s else := \"I\"\n", cname, chain)
	} else {
		g.printf("\n%s := x if {\n\tx := %s\n} else := \"I\"\n", cname, cond)
	}
	return nil
}

// shortcut prefixes a light chain with the decisive effect tested through
// the any_<code> rules, when the algorithm's first question is "does any
// rule yield this effect" (it is, for all but first-applicable).
func (g *pkgGen) shortcut(alg, rpkg, chain string) string {
	decisive := map[string]string{
		"deny_overrides": "D", "legacy_rule_deny_overrides": "D",
		"permit_overrides": "P", "legacy_rule_permit_overrides": "P",
		"deny_unless_permit": "P", "permit_unless_deny": "D",
	}[alg]
	if decisive == "" || g.noShortcut {
		return chain
	}
	test := "false"
	if g.anyCodes[decisive] {
		test = rpkg + ".any_" + decisive
	}
	other := map[string]string{"deny_unless_permit": `"D"`, "permit_unless_deny": `"P"`}[alg]
	if other != "" {
		return fmt.Sprintf("%q if %s else := %s", decisive, test, other)
	}
	return fmt.Sprintf("%q if %s else := %s", decisive, test, chain)
}

// lightChains are the rule-combining algorithms over decision codes, as
// else chains over the set ds of the rules' codes (first-applicable uses
// the ordered rs). They mirror the prelude's object versions.
var lightChains = map[string]string{
	"deny_overrides":               `"D" if ds["D"] else := "IDP" if ds["IDP"] else := "IDP" if { ds["ID"]; ds["IP"] } else := "IDP" if { ds["ID"]; ds["P"] } else := "ID" if ds["ID"] else := "P" if ds["P"] else := "IP" if ds["IP"] else := "NA"`,
	"permit_overrides":             `"P" if ds["P"] else := "IDP" if ds["IDP"] else := "IDP" if { ds["IP"]; ds["ID"] } else := "IDP" if { ds["IP"]; ds["D"] } else := "IP" if ds["IP"] else := "D" if ds["D"] else := "ID" if ds["ID"] else := "NA"`,
	"deny_unless_permit":           `"P" if ds["P"] else := "D"`,
	"permit_unless_deny":           `"D" if ds["D"] else := "P"`,
	"first_applicable":             `x if { xs := [c | some c in rs; c != "NA"]; x := xs[0] } else := "NA"`,
	"legacy_rule_deny_overrides":   `"D" if ds["D"] else := "IDP" if ds["ID"] else := "IDP" if ds["IDP"] else := "P" if ds["P"] else := "IDP" if ds["IP"] else := "NA"`,
	"legacy_rule_permit_overrides": `"P" if ds["P"] else := "IDP" if ds["IP"] else := "IDP" if ds["IDP"] else := "D" if ds["D"] else := "IDP" if ds["ID"] else := "NA"`,
}

// logicChain renders a condition whose top is and/or as an else chain of
// plain comparisons (false as soon as one argument of an and is false, true
// as soon as one of an or is true, the other value when all agree), which
// OPA evaluates far faster than catching each argument in a comprehension.
// Arguments are evaluated at most once each per branch and stay undefined
// when Indeterminate, so the chain falls through to "I" exactly as XACML's
// and/or say.
func (g *pkgGen) logicChain(e xacml.Expr) (string, bool, error) {
	a, ok := e.(*xacml.Apply)
	if !ok {
		return "", false, nil
	}
	fi, found := g.c.checked.Funcs.Lookup(a.FunctionID)
	if !found || (fi.Op != xacml.OpAnd && fi.Op != xacml.OpOr) || len(a.Args) == 0 {
		return "", false, nil
	}
	decisive, other := "false", "true"
	if fi.Op == xacml.OpOr {
		decisive, other = "true", "false"
	}
	terms := make([]string, len(a.Args))
	for i, arg := range a.Args {
		t, err := g.expr(arg)
		if err != nil {
			return "", false, err
		}
		terms[i] = t
	}
	var parts []string
	for _, t := range terms {
		parts = append(parts, fmt.Sprintf("%s if {\n\t%s == %s\n}", decisive, t, decisive))
	}
	all := make([]string, len(terms))
	for i, t := range terms {
		all[i] = t + " == " + other
	}
	parts = append(parts, fmt.Sprintf("%s if {\n\t%s\n}", other, strings.Join(all, "\n\t")))
	return strings.Join(parts, " else := "), true, nil
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
