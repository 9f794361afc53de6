package xacml

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"slices"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// ParseYAML parses one policy or policy set in the YAML authoring form
// described in YAML.md. It produces the same model as ParseXML for the same
// policy, lexical forms of values included: a scalar's text is taken from
// the document as written ("27.50" stays "27.50"), never through a number.
// Positions name the YAML line and the XACML element the node stands for.
func ParseYAML(file string, data []byte) (Evaluable, error) {
	p := &yamlParser{file: file, reg: StandardFunctions()}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, newError(Pos{File: file, Line: 1}, ErrSyntax, "empty document")
		}
		return nil, yamlSyntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, newError(Pos{File: file, Line: extra.Line}, ErrSyntax, "more than one YAML document: write one policy per file")
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlSyntaxError(file, err)
	}
	if len(doc.Content) != 1 {
		return nil, newError(Pos{File: file, Line: 1}, ErrSyntax, "empty document")
	}
	e := p.document(doc.Content[0])
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	return e, nil
}

// yamlSyntaxError turns a YAML parser error into an *Error with its line.
func yamlSyntaxError(file string, err error) error {
	msg := err.Error()
	line := 0
	if m := regexp.MustCompile(`^yaml: line (\d+): (.*)$`).FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	e := newError(Pos{File: file, Line: line}, ErrSyntax, "malformed YAML: %s", msg)
	e.Cause = err
	return e
}

// yamlParser converts a YAML node tree into the model, collecting errors.
type yamlParser struct {
	file string
	reg  *Registry
	errs errorList
}

func (p *yamlParser) pos(n *yaml.Node, element string) Pos {
	return Pos{File: p.file, Line: n.Line, Element: element}
}

// kind checks that n is of kind k, explaining aliases, which the form does
// not support (they would let a small file expand into a huge policy).
func (p *yamlParser) kind(n *yaml.Node, k yaml.Kind, element, what string) bool {
	if n.Kind == k {
		return true
	}
	if n.Kind == yaml.AliasNode {
		p.errs.add(p.pos(n, element), ErrUnsupported, "YAML aliases are not supported")
		return false
	}
	p.errs.add(p.pos(n, element), ErrSyntax, "%s must be %s", what, kindName(k))
	return false
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return "a single value"
}

// fields returns the values of a mapping by key, reporting non-scalar,
// duplicate and unknown keys.
func (p *yamlParser) fields(n *yaml.Node, element string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if !p.kind(n, yaml.MappingNode, element, element) {
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errs.add(p.pos(k, element), ErrSyntax, "keys must be plain names")
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			p.errs.add(p.pos(k, element), ErrSyntax, "unknown key %q (expected one of %v)", k.Value, allowed)
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errs.add(p.pos(k, element), ErrSyntax, "duplicate key %q", k.Value)
			continue
		}
		out[k.Value] = v
	}
	return out
}

// str returns the text of a scalar field ("" when absent).
func (p *yamlParser) str(m map[string]*yaml.Node, key, element string) string {
	n, ok := m[key]
	if !ok {
		return ""
	}
	if !p.kind(n, yaml.ScalarNode, element, key) {
		return ""
	}
	if n.ShortTag() == "!!null" {
		p.errs.add(p.pos(n, element), ErrSyntax, "%s has no value", key)
		return ""
	}
	return n.Value
}

// required is str for a key that must be present.
func (p *yamlParser) required(m map[string]*yaml.Node, key string, at *yaml.Node, element string) string {
	if _, ok := m[key]; !ok {
		p.errs.add(p.pos(at, element), ErrSyntax, "missing %s", key)
		return ""
	}
	return p.str(m, key, element)
}

// literalTag marks a scalar as an identifier to take as written, for the
// rare identifier that looks like a short name (a category literally named
// "subject").
const literalTag = "!literal"

// resolveName applies resolve to a name unless it is tagged !literal.
func resolveName(n *yaml.Node, resolve func(string) string) string {
	if n.Tag == literalTag {
		return n.Value
	}
	return resolve(n.Value)
}

// name reads an identifier field that may be a short name.
func (p *yamlParser) name(m map[string]*yaml.Node, key, element string, resolve func(string) string) string {
	v := p.str(m, key, element)
	if n := m[key]; n != nil && n.Kind == yaml.ScalarNode {
		return resolveName(&yaml.Node{Tag: n.Tag, Value: v}, resolve)
	}
	return v
}

// requiredName is name for a key that must be present.
func (p *yamlParser) requiredName(m map[string]*yaml.Node, key string, at *yaml.Node, element string, resolve func(string) string) string {
	if _, ok := m[key]; !ok {
		p.errs.add(p.pos(at, element), ErrSyntax, "missing %s", key)
		return ""
	}
	return p.name(m, key, element, resolve)
}

func (p *yamlParser) boolField(m map[string]*yaml.Node, key, element string) bool {
	n, ok := m[key]
	if !ok {
		return false
	}
	if !p.kind(n, yaml.ScalarNode, element, key) {
		return false
	}
	switch n.Value {
	case "true":
		return true
	case "false":
		return false
	}
	p.errs.add(p.pos(n, element), ErrSyntax, "%s must be true or false", key)
	return false
}

func (p *yamlParser) seq(n *yaml.Node, element, what string) []*yaml.Node {
	if n == nil || !p.kind(n, yaml.SequenceNode, element, what) {
		return nil
	}
	return n.Content
}

func (p *yamlParser) document(n *yaml.Node) Evaluable {
	if !p.kind(n, yaml.MappingNode, "Policy", "a policy document") {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "policy":
			return p.policy(n)
		case "policyset":
			return p.policySet(n)
		}
	}
	p.errs.add(p.pos(n, "Policy"), ErrSyntax, "a policy document starts with \"policy: ID\" or \"policyset: ID\"")
	return nil
}

func (p *yamlParser) version(m map[string]*yaml.Node, element string) string {
	if _, ok := m["version"]; !ok {
		return DefaultVersion
	}
	return p.str(m, "version", element)
}

func (p *yamlParser) policy(n *yaml.Node) *Policy {
	m := p.fields(n, "Policy", "policy", "version", "description", "combining", "max_delegation_depth",
		"target", "variables", "rules", "obligations", "advice")
	pol := &Policy{
		ID:                 p.required(m, "policy", n, "Policy"),
		Version:            p.version(m, "Policy"),
		Description:        p.str(m, "description", "Policy"),
		CombiningAlg:       p.requiredName(m, "combining", n, "Policy", func(s string) string { return combiningAlgByName(s, false) }),
		MaxDelegationDepth: p.str(m, "max_delegation_depth", "Policy"),
		Target:             p.target(m["target"]),
		Pos:                p.pos(n, "Policy"),
	}
	if vars, ok := m["variables"]; ok && p.kind(vars, yaml.MappingNode, "VariableDefinition", "variables") {
		for i := 0; i+1 < len(vars.Content); i += 2 {
			k, v := vars.Content[i], vars.Content[i+1]
			pol.Variables = append(pol.Variables, &VariableDefinition{
				ID:   k.Value,
				Expr: p.expr(v, Type{}, false),
				Pos:  p.pos(k, "VariableDefinition"),
			})
		}
	}
	for _, r := range p.seq(m["rules"], "Rule", "rules") {
		pol.Rules = append(pol.Rules, p.rule(r))
	}
	pol.Obligations = p.effectExpressions(m["obligations"], "ObligationExpression")
	pol.Advice = p.effectExpressions(m["advice"], "AdviceExpression")
	return pol
}

func (p *yamlParser) policySet(n *yaml.Node) *PolicySet {
	m := p.fields(n, "PolicySet", "policyset", "version", "description", "combining", "max_delegation_depth",
		"target", "policies", "obligations", "advice")
	ps := &PolicySet{
		ID:                 p.required(m, "policyset", n, "PolicySet"),
		Version:            p.version(m, "PolicySet"),
		Description:        p.str(m, "description", "PolicySet"),
		CombiningAlg:       p.requiredName(m, "combining", n, "PolicySet", func(s string) string { return combiningAlgByName(s, true) }),
		MaxDelegationDepth: p.str(m, "max_delegation_depth", "PolicySet"),
		Target:             p.target(m["target"]),
		Pos:                p.pos(n, "PolicySet"),
	}
	for _, c := range p.seq(m["policies"], "PolicySet", "policies") {
		if child := p.child(c); child != nil {
			ps.Children = append(ps.Children, child)
		}
	}
	ps.Obligations = p.effectExpressions(m["obligations"], "ObligationExpression")
	ps.Advice = p.effectExpressions(m["advice"], "AdviceExpression")
	return ps
}

// child converts an item of a policy set's "policies" list.
func (p *yamlParser) child(n *yaml.Node) any {
	if !p.kind(n, yaml.MappingNode, "PolicySet", "an item of policies") {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch key := n.Content[i].Value; key {
		case "policy":
			return p.policy(n)
		case "policyset":
			return p.policySet(n)
		case "policy_ref", "policyset_ref":
			if len(n.Content) != 2 {
				p.errs.add(p.pos(n, "PolicyIdReference"), ErrSyntax, "a reference item has the single key %s", key)
			}
			if key == "policy_ref" {
				return p.reference(n.Content[i+1], KindPolicy)
			}
			return p.reference(n.Content[i+1], KindPolicySet)
		}
	}
	p.errs.add(p.pos(n, "PolicySet"), ErrSyntax, "an item of policies needs one of the keys policy, policyset, policy_ref, policyset_ref")
	return nil
}

func (p *yamlParser) reference(n *yaml.Node, kind PolicyKind) *Reference {
	element := kind.String() + "IdReference"
	r := &Reference{Kind: kind, Pos: p.pos(n, element)}
	if n.Kind == yaml.ScalarNode {
		r.ID = n.Value
		return r
	}
	m := p.fields(n, element, "id", "version", "earliest", "latest")
	r.ID = p.required(m, "id", n, element)
	r.Version = p.str(m, "version", element)
	r.EarliestVersion = p.str(m, "earliest", element)
	r.LatestVersion = p.str(m, "latest", element)
	return r
}

func (p *yamlParser) rule(n *yaml.Node) *Rule {
	m := p.fields(n, "Rule", "id", "effect", "description", "target", "condition", "obligations", "advice")
	r := &Rule{
		ID:          p.required(m, "id", n, "Rule"),
		Effect:      parseEffect(p.required(m, "effect", n, "Rule")),
		Description: p.str(m, "description", "Rule"),
		Target:      p.target(m["target"]),
		Pos:         p.pos(n, "Rule"),
	}
	if c, ok := m["condition"]; ok {
		r.Condition = p.expr(c, Type{DataType: TypeBoolean}, true)
	}
	r.Obligations = p.effectExpressions(m["obligations"], "ObligationExpression")
	r.Advice = p.effectExpressions(m["advice"], "AdviceExpression")
	return r
}

func (p *yamlParser) effectExpressions(n *yaml.Node, element string) []*EffectExpression {
	var out []*EffectExpression
	for _, item := range p.seq(n, element, "obligations and advice") {
		m := p.fields(item, element, "id", "on", "assign")
		ee := &EffectExpression{
			ID:     p.required(m, "id", item, element),
			Effect: parseEffect(p.required(m, "on", item, element)),
			Pos:    p.pos(item, element),
		}
		for _, a := range p.seq(m["assign"], "AttributeAssignmentExpression", "assign") {
			am := p.fields(a, "AttributeAssignmentExpression", "id", "category", "issuer", "value")
			as := &AttributeAssignmentExpression{
				AttributeID: p.required(am, "id", a, "AttributeAssignmentExpression"),
				Category:    p.name(am, "category", "AttributeAssignmentExpression", categoryID),
				Issuer:      p.str(am, "issuer", "AttributeAssignmentExpression"),
				Pos:         p.pos(a, "AttributeAssignmentExpression"),
			}
			if v, ok := am["value"]; ok {
				as.Expr = p.expr(v, Type{}, false)
			} else {
				p.errs.add(as.Pos, ErrSyntax, "missing value")
			}
			ee.Assignments = append(ee.Assignments, as)
		}
		out = append(out, ee)
	}
	return out
}

// target converts the list form of a target: each item is an AnyOf, written
// as a single match, {any_of: [...]} or {all_of: [...]}.
func (p *yamlParser) target(n *yaml.Node) *Target {
	if n == nil {
		return nil
	}
	items := p.seq(n, "Target", "target")
	if len(items) == 0 {
		return nil
	}
	t := &Target{Pos: p.pos(n, "Target")}
	for _, item := range items {
		any := &AnyOf{Pos: p.pos(item, "AnyOf")}
		switch {
		case hasKey(item, "any_of"):
			m := p.fields(item, "AnyOf", "any_of")
			for _, a := range p.seq(m["any_of"], "AnyOf", "any_of") {
				any.AllOf = append(any.AllOf, p.allOf(a))
			}
		default:
			any.AllOf = append(any.AllOf, p.allOf(item))
		}
		t.AnyOf = append(t.AnyOf, any)
	}
	return t
}

// allOf converts a single match or {all_of: [matches]}.
func (p *yamlParser) allOf(n *yaml.Node) *AllOf {
	all := &AllOf{Pos: p.pos(n, "AllOf")}
	if hasKey(n, "all_of") {
		m := p.fields(n, "AllOf", "all_of")
		for _, mn := range p.seq(m["all_of"], "AllOf", "all_of") {
			all.Matches = append(all.Matches, p.match(mn))
		}
		return all
	}
	all.Matches = append(all.Matches, p.match(n))
	return all
}

func hasKey(n *yaml.Node, key string) bool {
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return true
		}
	}
	return false
}

// match converts {match: FUNCTION, value: V, type: T, attr|selector: {...}}.
// Without type, the value has the type of the function's first parameter,
// and the attribute that of its second.
func (p *yamlParser) match(n *yaml.Node) *Match {
	m := p.fields(n, "Match", "match", "value", "type", "xml_attrs", "attr", "selector")
	mt := &Match{FunctionID: p.requiredName(m, "match", n, "Match", p.reg.functionID), Pos: p.pos(n, "Match")}
	var p0, p1 Type
	var has0, has1 bool
	if f, ok := p.reg.Lookup(mt.FunctionID); ok && !f.HigherOrder {
		p0, has0 = paramType(f, 0)
		p1, has1 = paramType(f, 1)
	}
	if vn := m["value"]; vn != nil {
		v := &AttributeValue{Pos: p.pos(vn, "AttributeValue")}
		switch {
		case m["type"] != nil:
			v.DataType = p.name(m, "type", "Match", dataTypeID)
		case has0 && !p0.Bag:
			v.DataType = p0.DataType
		default:
			v.DataType = p.scalarType(vn)
		}
		if p.kind(vn, yaml.ScalarNode, "AttributeValue", "value") {
			if vn.ShortTag() == "!!null" {
				p.errs.add(v.Pos, ErrSyntax, "missing value (write \"\" for an empty string)")
			}
			v.Value = NormalizeValue(v.DataType, vn.Value)
		}
		v.XMLAttrs = p.xmlAttrs(m["xml_attrs"])
		mt.Value = v
	} else {
		p.errs.add(mt.Pos, ErrSyntax, "missing value")
	}
	ctx := Type{DataType: TypeString}
	if has1 {
		ctx = Type{DataType: p1.DataType}
	}
	switch {
	case m["attr"] != nil && m["selector"] != nil:
		p.errs.add(mt.Pos, ErrSyntax, "a match has attr or selector, not both")
	case m["attr"] != nil:
		mt.Attribute = p.designator(m["attr"], ctx.DataType)
	case m["selector"] != nil:
		mt.Attribute = p.selector(m["selector"], ctx.DataType)
	default:
		p.errs.add(mt.Pos, ErrSyntax, "missing attr")
	}
	return mt
}

func (p *yamlParser) xmlAttrs(n *yaml.Node) map[string]string {
	if n == nil || !p.kind(n, yaml.MappingNode, "AttributeValue", "xml_attrs") {
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1].Value
	}
	return out
}

// scalarType infers the data type of a scalar from its YAML type: quoted
// or plain text is a string, 42 an integer, 27.50 a double, true a boolean.
// Anything else (dates, null) needs an explicit type.
func (p *yamlParser) scalarType(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return TypeString
	}
	switch n.ShortTag() {
	case "!!str":
		return TypeString
	case "!!int":
		return TypeInteger
	case "!!float":
		return TypeDouble
	case "!!bool":
		return TypeBoolean
	}
	p.errs.add(p.pos(n, "AttributeValue"), ErrSyntax, "cannot tell the data type of %q: write {value: %q, type: ...}", n.Value, n.Value)
	return TypeString
}

func (p *yamlParser) designator(n *yaml.Node, defaultType string) *AttributeDesignator {
	m := p.fields(n, "AttributeDesignator", "category", "id", "type", "issuer", "must_be_present")
	d := &AttributeDesignator{
		Category:      p.requiredName(m, "category", n, "AttributeDesignator", categoryID),
		AttributeID:   p.required(m, "id", n, "AttributeDesignator"),
		DataType:      defaultType,
		Issuer:        p.str(m, "issuer", "AttributeDesignator"),
		MustBePresent: p.boolField(m, "must_be_present", "AttributeDesignator"),
		Pos:           p.pos(n, "AttributeDesignator"),
	}
	if _, ok := m["type"]; ok {
		d.DataType = p.name(m, "type", "AttributeDesignator", dataTypeID)
	}
	return d
}

func (p *yamlParser) selector(n *yaml.Node, defaultType string) *AttributeSelector {
	m := p.fields(n, "AttributeSelector", "category", "path", "context", "type", "must_be_present")
	s := &AttributeSelector{
		Category:          p.requiredName(m, "category", n, "AttributeSelector", categoryID),
		Path:              p.required(m, "path", n, "AttributeSelector"),
		ContextSelectorID: p.str(m, "context", "AttributeSelector"),
		DataType:          defaultType,
		MustBePresent:     p.boolField(m, "must_be_present", "AttributeSelector"),
		Pos:               p.pos(n, "AttributeSelector"),
	}
	if _, ok := m["type"]; ok {
		s.DataType = p.name(m, "type", "AttributeSelector", dataTypeID)
	}
	return s
}

// expr converts an expression. ctx, when hasCtx, is the type the position
// expects (a function's parameter type): a bare scalar then has that type,
// and a designator without a type has its data type.
func (p *yamlParser) expr(n *yaml.Node, ctx Type, hasCtx bool) Expr {
	switch n.Kind {
	case yaml.ScalarNode:
		v := &AttributeValue{Pos: p.pos(n, "AttributeValue")}
		if n.ShortTag() == "!!null" {
			p.errs.add(v.Pos, ErrSyntax, "missing value (write \"\" for an empty string)")
		}
		if hasCtx && !ctx.Bag && ctx.Func == nil && ctx.DataType != "" {
			v.DataType = ctx.DataType
		} else {
			v.DataType = p.scalarType(n)
		}
		v.Value = NormalizeValue(v.DataType, n.Value)
		return v
	case yaml.MappingNode:
	default:
		p.kind(n, yaml.MappingNode, "Apply", "an expression")
		return nil
	}
	defaultType := TypeString
	if hasCtx && ctx.Func == nil && ctx.DataType != "" {
		defaultType = ctx.DataType
	}
	switch {
	case hasKey(n, "apply"):
		m := p.fields(n, "Apply", "apply", "description", "args")
		a := &Apply{
			FunctionID:  p.requiredName(m, "apply", n, "Apply", p.reg.functionID),
			Description: p.str(m, "description", "Apply"),
			Pos:         p.pos(n, "Apply"),
		}
		if args, ok := m["args"]; ok {
			a.Args = p.args(a.FunctionID, args)
		}
		return a
	case hasKey(n, "value"):
		m := p.fields(n, "AttributeValue", "value", "type", "xml_attrs")
		vn := m["value"]
		if vn == nil {
			return nil
		}
		v := &AttributeValue{Pos: p.pos(n, "AttributeValue"), XMLAttrs: p.xmlAttrs(m["xml_attrs"])}
		switch {
		case m["type"] != nil:
			v.DataType = p.name(m, "type", "AttributeValue", dataTypeID)
		case hasCtx && !ctx.Bag && ctx.Func == nil && ctx.DataType != "":
			v.DataType = ctx.DataType
		default:
			v.DataType = p.scalarType(vn)
		}
		if p.kind(vn, yaml.ScalarNode, "AttributeValue", "value") {
			if vn.ShortTag() == "!!null" {
				p.errs.add(v.Pos, ErrSyntax, "missing value (write \"\" for an empty string)")
			}
			v.Value = NormalizeValue(v.DataType, vn.Value)
		}
		return v
	case hasKey(n, "attr"):
		m := p.fields(n, "AttributeDesignator", "attr")
		return p.designator(m["attr"], defaultType)
	case hasKey(n, "selector"):
		m := p.fields(n, "AttributeSelector", "selector")
		return p.selector(m["selector"], defaultType)
	case hasKey(n, "var"):
		m := p.fields(n, "VariableReference", "var")
		return &VariableReference{VariableID: p.required(m, "var", n, "VariableReference"), Pos: p.pos(n, "VariableReference")}
	case hasKey(n, "function"):
		m := p.fields(n, "Function", "function")
		return &FunctionRef{FunctionID: p.requiredName(m, "function", n, "Function", p.reg.functionID), Pos: p.pos(n, "Function")}
	}
	if len(n.Content) != 2 || n.Content[0].Kind != yaml.ScalarNode {
		p.errs.add(p.pos(n, "Apply"), ErrSyntax, "an expression mapping is {FUNCTION: [args]}, {apply: ...}, {attr: ...}, {value: ...}, {var: ...} or {function: ...}")
		return nil
	}
	a := &Apply{FunctionID: resolveName(n.Content[0], p.reg.functionID), Pos: p.pos(n, "Apply")}
	a.Args = p.args(a.FunctionID, n.Content[1])
	return a
}

// args converts the arguments of an Apply: a list, or one argument alone.
// Each gets its parameter type as context when the function is known.
func (p *yamlParser) args(functionID string, n *yaml.Node) []Expr {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	f, known := p.reg.Lookup(functionID)
	var out []Expr
	for i, item := range items {
		var ctx Type
		hasCtx := false
		if known && !f.HigherOrder {
			ctx, hasCtx = paramType(f, i)
		}
		if e := p.expr(item, ctx, hasCtx); e != nil {
			out = append(out, e)
		}
	}
	return out
}
