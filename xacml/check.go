package xacml

import (
	"strings"
)

// Checked is a validated policy tree with what the compiler needs to know
// about it: the static type of every expression, the policy each reference
// resolves to and the definition each variable reference names. It is only
// returned when validation found no error.
type Checked struct {
	Root Evaluable
	Set  *Set
	// Types holds the static type of every expression of every checked
	// policy: Apply (its return type), AttributeValue, AttributeDesignator
	// and AttributeSelector (bags), VariableReference (the variable's type)
	// and FunctionRef (Type{Func: ...}).
	Types map[Expr]Type
	Funcs *Registry
	// Refs maps every PolicyIdReference/PolicySetIdReference to the loaded
	// policy it resolves to (with version matching applied).
	Refs map[*Reference]Evaluable
	// Vars maps every VariableReference to its VariableDefinition.
	Vars map[*VariableReference]*VariableDefinition
}

// Check validates root and every policy of set (a nil set means just root)
// against the registry (nil means StandardFunctions()): identifiers and
// their uniqueness, combining algorithms, references and their cycles,
// variables and their cycles, data types and literal values, and static
// types. It reports every problem it finds, the first one first; Checked
// is nil whenever the error is not.
//
// Policies of the set that root does not reach are checked too, because
// a policy that cannot be loaded must be refused even when nothing uses it
// yet.
func Check(set *Set, root Evaluable, reg *Registry) (*Checked, error) {
	if reg == nil {
		reg = StandardFunctions()
	}
	if set == nil {
		var err error
		if set, err = NewSet([]Evaluable{root}); err != nil {
			return nil, err
		}
	}
	c := &checker{
		reg: reg,
		set: set,
		out: &Checked{
			Root:  root,
			Set:   set,
			Types: map[Expr]Type{},
			Funcs: reg,
			Refs:  map[*Reference]Evaluable{},
			Vars:  map[*VariableReference]*VariableDefinition{},
		},
	}
	if root == nil {
		c.errs.add(Pos{}, ErrReference, "no root policy")
		return nil, c.errs.err()
	}
	tops := set.Policies()
	inSet := false
	for _, e := range tops {
		if e == root {
			inSet = true
		}
	}
	if !inSet {
		tops = append([]Evaluable{root}, tops...)
	}
	for _, e := range tops {
		c.evaluable(e)
	}
	c.cycles(tops)
	if err := c.errs.err(); err != nil {
		return nil, err
	}
	return c.out, nil
}

// checker carries the state of one Check call.
type checker struct {
	reg  *Registry
	set  *Set
	out  *Checked
	errs errorList
}

func (c *checker) evaluable(e Evaluable) {
	switch e := e.(type) {
	case *Policy:
		c.policy(e)
	case *PolicySet:
		c.policySet(e)
	}
}

// header checks what Policy and PolicySet have in common.
func (c *checker) header(kind PolicyKind, pos Pos, id, version, alg, maxDepth string) {
	if id == "" {
		c.errs.add(pos, ErrSyntax, "%s has no %sId", kind, kind)
	}
	if !ValidVersion(version) {
		c.errs.add(pos, ErrSyntax, "Version %q is not a version (numbers separated by dots, e.g. 1.0)", version)
	}
	if maxDepth != "" && !isInteger(maxDepth) {
		c.errs.add(pos, ErrSyntax, "MaxDelegationDepth %q is not an integer", maxDepth)
	}
	forPolicies := kind == KindPolicySet
	attr := "RuleCombiningAlgId"
	if forPolicies {
		attr = "PolicyCombiningAlgId"
	}
	switch _, known := LookupCombiningAlg(alg, forPolicies); {
	case alg == "":
		c.errs.add(pos, ErrSyntax, "%s has no %s", kind, attr)
	case known:
	case otherKindAlg(alg, forPolicies):
		want := "rule"
		if forPolicies {
			want = "policy"
		}
		c.errs.add(pos, ErrUnknownAlgorithm, "%s %q is not a %s-combining algorithm", attr, alg, want)
	default:
		c.errs.add(pos, ErrUnknownAlgorithm, "unknown %s %q", attr, alg)
	}
}

func (c *checker) policySet(ps *PolicySet) {
	c.header(KindPolicySet, ps.Pos, ps.ID, ps.Version, ps.CombiningAlg, ps.MaxDelegationDepth)
	c.target(ps.Target)
	for _, child := range ps.Children {
		switch ch := child.(type) {
		case *Policy:
			c.policy(ch)
		case *PolicySet:
			c.policySet(ch)
		case *Reference:
			c.reference(ch)
		default:
			c.errs.add(ps.Pos, ErrSyntax, "PolicySet child of unexpected type %T", child)
		}
	}
	c.effectExpressions(ps.Obligations, false, nil)
	c.effectExpressions(ps.Advice, true, nil)
}

func (c *checker) reference(r *Reference) {
	if r.ID == "" {
		c.errs.add(r.Pos, ErrSyntax, "empty %sIdReference", r.Kind)
		return
	}
	target, err := c.set.Resolve(r)
	if err != nil {
		c.errs.addErr(err)
		return
	}
	c.out.Refs[r] = target
}

func (c *checker) policy(p *Policy) {
	c.header(KindPolicy, p.Pos, p.ID, p.Version, p.CombiningAlg, p.MaxDelegationDepth)
	c.target(p.Target)
	scope := &varScope{
		defs:  map[string]*VariableDefinition{},
		state: map[*VariableDefinition]int{},
		types: map[*VariableDefinition]varType{},
	}
	for _, v := range p.Variables {
		if v.ID == "" {
			c.errs.add(v.Pos, ErrSyntax, "VariableDefinition has no VariableId")
			continue
		}
		if first, dup := scope.defs[v.ID]; dup {
			c.errs.add(v.Pos, ErrDuplicateID, "duplicate VariableId %q in policy %q (first defined at line %d)", v.ID, p.ID, first.Pos.Line)
			continue
		}
		scope.defs[v.ID] = v
	}
	for _, v := range p.Variables {
		if scope.defs[v.ID] == v {
			c.variable(v, scope)
		} else if v.Expr != nil {
			c.expr(v.Expr, scope)
		}
	}
	ruleIDs := map[string]*Rule{}
	for _, r := range p.Rules {
		if r.ID == "" {
			c.errs.add(r.Pos, ErrSyntax, "Rule has no RuleId")
		} else if first, dup := ruleIDs[r.ID]; dup {
			c.errs.add(r.Pos, ErrDuplicateID, "duplicate RuleId %q in policy %q (first defined at line %d)", r.ID, p.ID, first.Pos.Line)
		} else {
			ruleIDs[r.ID] = r
		}
		c.rule(r, scope)
	}
	c.effectExpressions(p.Obligations, false, scope)
	c.effectExpressions(p.Advice, true, scope)
}

func (c *checker) rule(r *Rule, scope *varScope) {
	switch r.Effect {
	case Permit, Deny:
	case "":
		c.errs.add(r.Pos, ErrSyntax, "Rule has no Effect (Permit or Deny)")
	default:
		c.errs.add(r.Pos, ErrSyntax, "Effect %q must be Permit or Deny", string(r.Effect))
	}
	c.target(r.Target)
	if r.Condition != nil {
		if t, ok := c.expr(r.Condition, scope); ok && !isBoolean(t) {
			c.errs.add(r.Condition.Position(), ErrType, "the Condition of rule %q is %s; it must be a boolean", r.ID, t)
		}
	}
	c.effectExpressions(r.Obligations, false, scope)
	c.effectExpressions(r.Advice, true, scope)
}

func isBoolean(t Type) bool { return t.Func == nil && !t.Bag && t.DataType == TypeBoolean }

func (c *checker) target(t *Target) {
	if t == nil {
		return
	}
	for _, any := range t.AnyOf {
		if len(any.AllOf) == 0 {
			c.errs.add(any.Pos, ErrSyntax, "AnyOf must contain at least one AllOf")
		}
		for _, all := range any.AllOf {
			if len(all.Matches) == 0 {
				c.errs.add(all.Pos, ErrSyntax, "AllOf must contain at least one Match")
			}
			for _, m := range all.Matches {
				c.match(m)
			}
		}
	}
}

// effectExpressions checks ObligationExpressions (advice false) or
// AdviceExpressions (advice true). scope is nil outside a Policy.
func (c *checker) effectExpressions(list []*EffectExpression, advice bool, scope *varScope) {
	idAttr, effectAttr := "ObligationId", "FulfillOn"
	if advice {
		idAttr, effectAttr = "AdviceId", "AppliesTo"
	}
	for _, e := range list {
		if e.ID == "" {
			c.errs.add(e.Pos, ErrSyntax, "missing %s", idAttr)
		}
		switch e.Effect {
		case Permit, Deny:
		case "":
			c.errs.add(e.Pos, ErrSyntax, "missing %s (Permit or Deny)", effectAttr)
		default:
			c.errs.add(e.Pos, ErrSyntax, "%s %q must be Permit or Deny", effectAttr, string(e.Effect))
		}
		for _, a := range e.Assignments {
			if a.AttributeID == "" {
				c.errs.add(a.Pos, ErrSyntax, "AttributeAssignmentExpression has no AttributeId")
			}
			if a.Expr == nil {
				c.errs.add(a.Pos, ErrSyntax, "AttributeAssignmentExpression has no expression")
				continue
			}
			c.expr(a.Expr, scope)
		}
	}
}

// cycles reports reference cycles among the top-level policies: a policy
// set that reaches itself through PolicyIdReference/PolicySetIdReference.
func (c *checker) cycles(tops []Evaluable) {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[Evaluable]int{}
	var path []string
	var visit func(e Evaluable)
	visit = func(e Evaluable) {
		state[e] = visiting
		id, _ := e.Identity()
		path = append(path, id)
		for _, r := range collectReferences(e, nil) {
			target, ok := c.out.Refs[r]
			if !ok {
				continue
			}
			switch state[target] {
			case visiting:
				tid, _ := target.Identity()
				start := 0
				for i, p := range path {
					if p == tid {
						start = i
					}
				}
				cycle := append(append([]string(nil), path[start:]...), tid)
				c.errs.add(r.Pos, ErrCircularReference, "circular reference: %s", strings.Join(cycle, " -> "))
			case unvisited:
				visit(target)
			}
		}
		path = path[:len(path)-1]
		state[e] = done
	}
	for _, e := range tops {
		if state[e] == unvisited {
			visit(e)
		}
	}
}
