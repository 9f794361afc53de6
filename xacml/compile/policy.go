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
	// root is set for the root element, whose package is verdict.main.
	root bool
	// needCodes is set when the combination reads the rules' decision
	// codes (rN). With a complete shortcut (deny-unless-permit and
	// permit-unless-deny over few rules) only any_<code> is evaluated, and
	// the per-rule code rules are not emitted at all.
	needCodes bool
	// key is the designated attribute that the any_<code> bodies test
	// straight on the input, so that OPA's rule index keeps only the
	// bodies whose literal the request holds; -1 for none.
	key int
	// slowCodes records the codes whose bodies also went to any_<code>_s,
	// the fallback used when the request lacks the key attribute.
	slowCodes map[string]bool
}

// piName is the name of the applicable-policies rule: the contract's
// policy_ids in the root package, pi elsewhere.
func (g *pkgGen) piName() string {
	if g.root {
		return "policy_ids"
	}
	return "pi"
}

// ownTarget emits the element's target rules t and s_t. The root's empty
// target is nobody's business: no parent reads it.
func (g *pkgGen) ownTarget(t *xacml.Target) error {
	g.emptyTarget = t == nil || len(t.AnyOf) == 0
	if g.root && g.emptyTarget {
		return nil
	}
	st, err := g.target("t", t)
	if err != nil {
		return err
	}
	g.printf("\ns_t := %s\n", st)
	return nil
}

// hasEffectExprs reports whether an element has obligations or advice.
func hasEffectExprs(obls, advice []*xacml.EffectExpression) bool {
	return len(obls) > 0 || len(advice) > 0
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
	light := lightAlgs[alg.fn]
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
	g.slowCodes = map[string]bool{}
	threshold := g.c.cfg.indexThreshold
	if threshold <= 0 {
		threshold = defaultIndexThreshold
	}
	g.noShortcut = len(p.Rules) >= threshold
	g.needCodes = !light || g.noShortcut || (alg.fn != "deny_unless_permit" && alg.fn != "permit_unless_deny")
	g.key = -1
	if light && !g.noShortcut {
		g.key = g.indexKey(p.Rules)
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
	for _, code := range []string{"P", "D"} {
		if g.slowCodes[code] {
			g.printf("\nany_%s if {\n\tnot %s\n\tany_%s_s\n}\n", code, inputRef(g.key), code)
		}
	}
	indexed := false
	if g.needCodes {
		indexed = g.index(names, targets)
	}
	g.out = &g.pb
	if err := g.ownTarget(p.Target); err != nil {
		return err
	}
	rpkg := "data.verdict.r." + g.name
	if g.needCodes {
		if indexed {
			g.printf("\nrs := [%s[n] | some i in %s.cands; n := %s.names[i]]\n", rpkg, rpkg, rpkg)
		} else {
			refs := make([]string, len(names))
			for i, n := range names {
				refs[i] = rpkg + "." + n
			}
			g.printf("\nrs := [%s]\n", strings.Join(refs, ", "))
		}
	}
	// direct: the combination is the element's result (no target, no
	// obligations or advice of its own to add).
	direct := g.emptyTarget && !hasEffectExprs(p.Obligations, p.Advice)
	name := "comb"
	if direct {
		name = "result"
	}
	bare := false
	if light {
		branches, usesDS, usesDC := g.lightBranches(alg.fn, rpkg)
		if usesDS {
			g.printf("\nds := {r | some r in rs}\n")
		}
		if usesDC {
			g.printf("\ndc := %s\n", firstApplicableChain)
		}
		needStatus := usesDC
		for _, b := range branches {
			if strings.HasPrefix(b.code, "I") {
				needStatus = true
			}
		}
		// The status of the first Indeterminate rule, needed only when
		// the combination is Indeterminate.
		if needStatus && indexed {
			g.printf("\nistat := x if {\n\txs := [%s[concat(\"\", [\"s_\", n])] | some i in %s.cands; n := %s.names[i]; startswith(%s[n], \"I\")]\n\tx := xs[0]\n} else := %q\n", rpkg, rpkg, rpkg, rpkg, statusProcessing)
		} else if needStatus {
			var parts []string
			for _, n := range names {
				parts = append(parts, fmt.Sprintf("%s.s_%s if {\n\tstartswith(%s.%s, \"I\")\n}", rpkg, n, rpkg, n))
			}
			parts = append(parts, fmt.Sprintf("%q", statusProcessing))
			g.printf("\nistat := %s\n", strings.Join(parts, " else := "))
		}
		// The root's result may be a bare decision code (see doc.go).
		bare = direct && g.root
		g.printf("\n%s := %s\n", name, codeChain(branches, bare))
	} else {
		g.printf("\nds := {r.d | some r in rs}\n\n%s := lib.%s(rs, ds)\n", name, alg.fn)
	}
	if !direct {
		if err := g.result(p.Obligations, p.Advice); err != nil {
			return err
		}
	}
	id, version := p.Identity()
	na := "result.d == \"NA\""
	if bare {
		na = "result == \"NA\""
	}
	g.printf("\n%s := [] if {\n\t%s\n} else := [{\"k\": \"Policy\", \"id\": %s, \"v\": %s}]\n", g.piName(), na, quote(id), quote(version))
	return nil
}

func (g *pkgGen) policySet(p *xacml.PolicySet) error {
	alg, err := combinerFor(p.CombiningAlg, xacml.KindPolicySet)
	if err != nil {
		return posErr(p.Pos, err)
	}
	g.out = &g.pb
	if err := g.ownTarget(p.Target); err != nil {
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
	direct := g.emptyTarget && !hasEffectExprs(p.Obligations, p.Advice)
	name := "comb"
	if direct {
		name = "result"
	}
	if alg.onlyOne {
		g.printf("\n%s := lib.%s([%s], rs)\n", name, alg.fn, strings.Join(targets, ", "))
	} else {
		g.printf("\nds := {r.d | some r in rs}\n\n%s := lib.%s(rs, ds)\n", name, alg.fn)
	}
	if !direct {
		if err := g.result(p.Obligations, p.Advice); err != nil {
			return err
		}
	}
	id, version := p.Identity()
	self := fmt.Sprintf("[{\"k\": \"PolicySet\", \"id\": %s, \"v\": %s}]", quote(id), quote(version))
	g.printf("\n%s := [] if {\n\tresult.d == \"NA\"\n} else := lib.flat([%s])\n", g.piName(), strings.Join(append([]string{self}, pis...), ", "))
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
	if g.light && !g.needCodes {
		return g.anyOnlyRule(name, code, r)
	}
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
	if !g.noShortcut {
		if err := g.anyBodies(code, tname, cname, cond, condition, target); err != nil {
			return err
		}
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
	return g.condRule(cname, cond, condition)
}

// condRule emits c_<rule>: the condition's value, "I" when Indeterminate.
func (g *pkgGen) condRule(cname, cond string, condition xacml.Expr) error {
	if chain, ok, err := g.logicChain(condition); err != nil {
		return err
	} else if ok {
		g.printf("\n%s := %s else := \"I\"\n", cname, chain)
	} else {
		g.printf("\n%s := x if {\n\tx := %s\n} else := \"I\"\n", cname, cond)
	}
	return nil
}

// anyOnlyRule emits only the any_<code> bodies of a rule: what a complete
// shortcut (deny-unless-permit, permit-unless-deny) evaluates.
func (g *pkgGen) anyOnlyRule(name, code string, r *xacml.Rule) error {
	var cond string
	if r.Condition != nil {
		var err error
		if cond, err = g.expr(r.Condition); err != nil {
			return err
		}
	}
	tname := "t_" + name
	if _, _, ok := g.fastTarget(r.Target); !ok {
		if _, err := g.target(tname, r.Target); err != nil {
			return err
		}
	}
	return g.anyBodies(code, tname, "c_"+name, cond, r.Condition, r.Target)
}

// anyBodies emits the bodies of any_<code>, which holds when some rule
// yields its effect: one body per branch of the rule's target, so OPA
// stops at the first that holds. Only a true condition matters there, so
// the condition is tested inline (each argument of a top-level and), not
// through the tri-state c_<rule>. Branches testing the key attribute test
// it on the input, where OPA's rule index sees it; their copies on the
// attribute's bag rule go to any_<code>_s, asked only when the request
// lacks the attribute (a PIP may have it).
func (g *pkgGen) anyBodies(code, tname, cname, cond string, condition xacml.Expr, target *xacml.Target) error {
	branches, _, ok := g.fastTarget(target)
	if !ok {
		branches = [][]fastStmt{{{raw: tname + ` == "M"`, attr: -1}}}
	}
	var conds []string
	if condition != nil {
		op, terms, isLogic, err := g.logicTerms(condition)
		if err != nil {
			return err
		}
		switch {
		case isLogic && op == xacml.OpAnd:
			for _, t := range terms {
				conds = append(conds, t+" == true")
			}
		case isLogic:
			// An or: true when one argument is; the tri-state rule
			// says so in one place rather than one body per argument.
			if !g.needCodes {
				if err := g.condRule(cname, cond, condition); err != nil {
					return err
				}
			}
			conds = append(conds, cname+" == true")
		default:
			conds = append(conds, cond+" == true")
		}
	}
	for _, b := range branches {
		stmts := append(stmtTexts(b), conds...)
		if len(stmts) == 0 {
			stmts = []string{"true"}
		}
		keyed := false
		direct := make([]string, 0, len(stmts))
		for _, st := range b {
			if g.key >= 0 && st.attr == g.key {
				keyed = true
				direct = append(direct, st.lit+" in "+inputRef(g.key))
			} else {
				direct = append(direct, st.text())
			}
		}
		direct = append(direct, conds...)
		if keyed {
			g.printf("\nany_%s if {\n\t%s\n}\n", code, strings.Join(direct, "\n\t"))
			g.printf("\nany_%s_s if {\n\t%s\n}\n", code, strings.Join(stmts, "\n\t"))
			g.slowCodes[code] = true
		} else {
			g.printf("\nany_%s if {\n\t%s\n}\n", code, strings.Join(stmts, "\n\t"))
		}
	}
	g.anyCodes[code] = true
	return nil
}

// indexKey picks the attribute that the most fast target branches of the
// rules test (at least two, else indexing gains nothing), or -1.
func (g *pkgGen) indexKey(rules []*xacml.Rule) int {
	count := map[int]int{}
	var order []int
	for _, r := range rules {
		branches, _, ok := g.fastTarget(r.Target)
		if !ok {
			continue
		}
		for _, b := range branches {
			seen := map[int]bool{}
			for _, st := range b {
				if st.attr < 0 || seen[st.attr] {
					continue
				}
				seen[st.attr] = true
				if count[st.attr] == 0 {
					order = append(order, st.attr)
				}
				count[st.attr]++
			}
		}
	}
	best, n := -1, 1
	for _, a := range order {
		if count[a] > n {
			best, n = a, count[a]
		}
	}
	return best
}

// branch is one step of a combination's else chain: the decision code it
// yields when cond (Rego statements; "" for the final else) holds. An
// empty code stands for the Indeterminate code held in dc.
type branch struct{ code, cond string }

// lightBranches returns the else chain combining the rules' codes for an
// algorithm, prefixed with the decisive effect tested through the
// any_<code> rules when the algorithm's first question is "does any rule
// yield this effect" (it is, for all but first-applicable); usesDS and
// usesDC say whether the chain reads ds (the set of rule codes) or dc
// (first-applicable's code).
func (g *pkgGen) lightBranches(alg, rpkg string) (bs []branch, usesDS, usesDC bool) {
	if alg == "first_applicable" {
		return []branch{{"P", `dc == "P"`}, {"D", `dc == "D"`}, {"NA", `dc == "NA"`}, {"", ""}}, false, true
	}
	decisive := map[string]string{
		"deny_overrides": "D", "legacy_rule_deny_overrides": "D",
		"permit_overrides": "P", "legacy_rule_permit_overrides": "P",
		"deny_unless_permit": "P", "permit_unless_deny": "D",
	}[alg]
	if decisive != "" && !g.noShortcut {
		if g.anyCodes[decisive] {
			bs = append(bs, branch{decisive, rpkg + ".any_" + decisive})
		}
		if other := map[string]string{"deny_unless_permit": "D", "permit_unless_deny": "P"}[alg]; other != "" {
			return append(bs, branch{other, ""}), false, false
		}
	}
	return append(bs, lightChains[alg]...), true, false
}

// codeChain renders a chain of branches as a rule value. Codes become
// result objects, or bare strings when bare (the root's definite
// decisions); an Indeterminate carries the status istat.
func codeChain(bs []branch, bare bool) string {
	var parts []string
	for _, b := range bs {
		var term string
		switch {
		case b.code == "":
			term = `{"d": dc, "s": istat}`
		case strings.HasPrefix(b.code, "I"):
			term = fmt.Sprintf(`{"d": %q, "s": istat}`, b.code)
		case bare:
			term = quote(b.code)
		case b.code == "NA":
			term = "lib.na"
		default:
			term = fmt.Sprintf(`{"d": %q, "o": [], "a": []}`, b.code)
		}
		if b.cond == "" {
			parts = append(parts, term)
			break
		}
		parts = append(parts, term+" if {\n\t"+b.cond+"\n}")
	}
	return strings.Join(parts, " else := ")
}

// lightAlgs are the rule-combining algorithms that light mode implements.
var lightAlgs = map[string]bool{
	"deny_overrides": true, "permit_overrides": true, "deny_unless_permit": true, "permit_unless_deny": true,
	"first_applicable": true, "legacy_rule_deny_overrides": true, "legacy_rule_permit_overrides": true,
}

// firstApplicableChain is first-applicable over the ordered rule codes rs.
const firstApplicableChain = `x if { xs := [c | some c in rs; c != "NA"]; x := xs[0] } else := "NA"`

// lightChains are the rule-combining algorithms over decision codes, as
// else chains over the set ds of the rules' codes. They mirror the
// prelude's object versions.
var lightChains = map[string][]branch{
	"deny_overrides":               {{"D", `ds["D"]`}, {"IDP", `ds["IDP"]`}, {"IDP", "ds[\"ID\"]\n\tds[\"IP\"]"}, {"IDP", "ds[\"ID\"]\n\tds[\"P\"]"}, {"ID", `ds["ID"]`}, {"P", `ds["P"]`}, {"IP", `ds["IP"]`}, {"NA", ""}},
	"permit_overrides":             {{"P", `ds["P"]`}, {"IDP", `ds["IDP"]`}, {"IDP", "ds[\"IP\"]\n\tds[\"ID\"]"}, {"IDP", "ds[\"IP\"]\n\tds[\"D\"]"}, {"IP", `ds["IP"]`}, {"D", `ds["D"]`}, {"ID", `ds["ID"]`}, {"NA", ""}},
	"deny_unless_permit":           {{"P", `ds["P"]`}, {"D", ""}},
	"permit_unless_deny":           {{"D", `ds["D"]`}, {"P", ""}},
	"legacy_rule_deny_overrides":   {{"D", `ds["D"]`}, {"IDP", `ds["ID"]`}, {"IDP", `ds["IDP"]`}, {"P", `ds["P"]`}, {"IDP", `ds["IP"]`}, {"NA", ""}},
	"legacy_rule_permit_overrides": {{"P", `ds["P"]`}, {"IDP", `ds["IP"]`}, {"IDP", `ds["IDP"]`}, {"D", `ds["D"]`}, {"IDP", `ds["ID"]`}, {"NA", ""}},
}

// logicChain renders a condition whose top is and/or as an else chain of
// plain comparisons (false as soon as one argument of an and is false, true
// as soon as one of an or is true, the other value when all agree), which
// OPA evaluates far faster than catching each argument in a comprehension.
// Arguments are evaluated at most once each per branch and stay undefined
// when Indeterminate, so the chain falls through to "I" exactly as XACML's
// and/or say.
func (g *pkgGen) logicChain(e xacml.Expr) (string, bool, error) {
	op, terms, ok, err := g.logicTerms(e)
	if err != nil || !ok {
		return "", false, err
	}
	decisive, other := "false", "true"
	if op == xacml.OpOr {
		decisive, other = "true", "false"
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

// logicTerms renders the arguments of a condition whose top is and/or.
func (g *pkgGen) logicTerms(e xacml.Expr) (xacml.Op, []string, bool, error) {
	a, ok := e.(*xacml.Apply)
	if !ok {
		return "", nil, false, nil
	}
	fi, found := g.c.checked.Funcs.Lookup(a.FunctionID)
	if !found || (fi.Op != xacml.OpAnd && fi.Op != xacml.OpOr) || len(a.Args) == 0 {
		return "", nil, false, nil
	}
	terms := make([]string, len(a.Args))
	for i, arg := range a.Args {
		t, err := g.expr(arg)
		if err != nil {
			return "", nil, false, err
		}
		terms[i] = t
	}
	return fi.Op, terms, true, nil
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
