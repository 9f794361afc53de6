package xacml

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"go.yaml.in/yaml/v3"
)

// WriteYAML writes a policy or policy set in the YAML authoring form
// (YAML.md), using short names wherever they resolve back to the same
// identifier and the shortest expression forms that parse back to the same
// model: ParseYAML of the output equals e, lexical forms included.
func WriteYAML(w io.Writer, e Evaluable) error {
	yw := &yamlWriter{reg: StandardFunctions()}
	var n *yaml.Node
	switch e := e.(type) {
	case *Policy:
		n = yw.policy(e)
	case *PolicySet:
		n = yw.policySet(e)
	default:
		return fmt.Errorf("xacml: cannot write %T as YAML", e)
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return err
	}
	return enc.Close()
}

// yamlWriter builds the node tree of the YAML form.
type yamlWriter struct {
	reg *Registry
}

func ymap(pairs ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: pairs}
}

func yflow(n *yaml.Node) *yaml.Node {
	n.Style = yaml.FlowStyle
	return n
}

// ystr is a scalar that must read back as the text s.
func ystr(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// yadd appends key: value to a mapping, skipping empty strings.
func yadd(m *yaml.Node, key string, value *yaml.Node) {
	if value == nil || (value.Kind == yaml.ScalarNode && value.Value == "" && value.Tag == "!!str") {
		return
	}
	m.Content = append(m.Content, ystr(key), value)
}

// plainTag returns the tag a plain (unquoted) scalar s resolves to, or ""
// when s does not survive as a plain scalar.
func plainTag(s string) string {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil || len(n.Content) != 1 {
		return ""
	}
	c := n.Content[0]
	if c.Kind != yaml.ScalarNode || c.Value != s || c.Style != 0 {
		return ""
	}
	return c.ShortTag()
}

// naturalTag is the YAML tag a bare scalar of data type dt is read as.
func naturalTag(dt string) string {
	switch dt {
	case TypeString:
		return "!!str"
	case TypeInteger:
		return "!!int"
	case TypeDouble:
		return "!!float"
	case TypeBoolean:
		return "!!bool"
	}
	return ""
}

// scalar writes the lexical form v of type dt, plain when it reads back
// with that YAML type, else as a (quoted if need be) string.
func scalar(dt, v string) *yaml.Node {
	if tag := naturalTag(dt); tag != "" && tag != "!!str" && plainTag(v) == tag {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v}
	}
	return ystr(v)
}

func (w *yamlWriter) header(m *yaml.Node, version, description, alg string, forPolicies bool, maxDepth string, target *Target) {
	if version != DefaultVersion {
		m.Content = append(m.Content, ystr("version"), ystr(version))
	}
	yadd(m, "description", ystr(description))
	// combining is required, so it is written even when empty.
	m.Content = append(m.Content, ystr("combining"), nameNode(alg, combiningAlgShortName(alg, forPolicies), func(s string) string { return combiningAlgByName(s, forPolicies) }))
	yadd(m, "max_delegation_depth", ystr(maxDepth))
	yadd(m, "target", w.target(target))
}

func (w *yamlWriter) policy(p *Policy) *yaml.Node {
	m := ymap(ystr("policy"), ystr(p.ID))
	w.header(m, p.Version, p.Description, p.CombiningAlg, false, p.MaxDelegationDepth, p.Target)
	if len(p.Variables) > 0 {
		vars := ymap()
		for _, v := range p.Variables {
			vars.Content = append(vars.Content, ystr(v.ID), w.expr(v.Expr, Type{}, false))
		}
		yadd(m, "variables", vars)
	}
	if len(p.Rules) > 0 {
		rules := &yaml.Node{Kind: yaml.SequenceNode}
		for _, r := range p.Rules {
			rules.Content = append(rules.Content, w.rule(r))
		}
		yadd(m, "rules", rules)
	}
	yadd(m, "obligations", w.effectExpressions(p.Obligations))
	yadd(m, "advice", w.effectExpressions(p.Advice))
	return m
}

func (w *yamlWriter) policySet(ps *PolicySet) *yaml.Node {
	m := ymap(ystr("policyset"), ystr(ps.ID))
	w.header(m, ps.Version, ps.Description, ps.CombiningAlg, true, ps.MaxDelegationDepth, ps.Target)
	if len(ps.Children) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, c := range ps.Children {
			switch c := c.(type) {
			case *Policy:
				list.Content = append(list.Content, w.policy(c))
			case *PolicySet:
				list.Content = append(list.Content, w.policySet(c))
			case *Reference:
				list.Content = append(list.Content, w.reference(c))
			}
		}
		yadd(m, "policies", list)
	}
	yadd(m, "obligations", w.effectExpressions(ps.Obligations))
	yadd(m, "advice", w.effectExpressions(ps.Advice))
	return m
}

func (w *yamlWriter) reference(r *Reference) *yaml.Node {
	key := "policy_ref"
	if r.Kind == KindPolicySet {
		key = "policyset_ref"
	}
	if r.Version == "" && r.EarliestVersion == "" && r.LatestVersion == "" {
		return ymap(ystr(key), ystr(r.ID))
	}
	ref := yflow(ymap(ystr("id"), ystr(r.ID)))
	yadd(ref, "version", ystr(r.Version))
	yadd(ref, "earliest", ystr(r.EarliestVersion))
	yadd(ref, "latest", ystr(r.LatestVersion))
	return ymap(ystr(key), ref)
}

func (w *yamlWriter) rule(r *Rule) *yaml.Node {
	m := ymap(ystr("id"), ystr(r.ID), ystr("effect"), ystr(string(r.Effect)))
	yadd(m, "description", ystr(r.Description))
	yadd(m, "target", w.target(r.Target))
	if r.Condition != nil {
		yadd(m, "condition", w.expr(r.Condition, Type{DataType: TypeBoolean}, true))
	}
	yadd(m, "obligations", w.effectExpressions(r.Obligations))
	yadd(m, "advice", w.effectExpressions(r.Advice))
	return m
}

func (w *yamlWriter) effectExpressions(list []*EffectExpression) *yaml.Node {
	if len(list) == 0 {
		return nil
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, e := range list {
		m := ymap(ystr("id"), ystr(e.ID), ystr("on"), ystr(string(e.Effect)))
		if len(e.Assignments) > 0 {
			as := &yaml.Node{Kind: yaml.SequenceNode}
			for _, a := range e.Assignments {
				am := ymap(ystr("id"), ystr(a.AttributeID))
				yadd(am, "category", nameNode(a.Category, categoryName(a.Category), categoryID))
				yadd(am, "issuer", ystr(a.Issuer))
				am.Content = append(am.Content, ystr("value"), w.expr(a.Expr, Type{}, false))
				as.Content = append(as.Content, am)
			}
			yadd(m, "assign", as)
		}
		seq.Content = append(seq.Content, m)
	}
	return seq
}

func (w *yamlWriter) target(t *Target) *yaml.Node {
	if t == nil || len(t.AnyOf) == 0 {
		return nil
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	for _, any := range t.AnyOf {
		if len(any.AllOf) == 1 && len(any.AllOf[0].Matches) == 1 {
			seq.Content = append(seq.Content, w.match(any.AllOf[0].Matches[0]))
			continue
		}
		alls := &yaml.Node{Kind: yaml.SequenceNode}
		for _, all := range any.AllOf {
			alls.Content = append(alls.Content, w.allOf(all))
		}
		seq.Content = append(seq.Content, ymap(ystr("any_of"), alls))
	}
	return seq
}

func (w *yamlWriter) allOf(all *AllOf) *yaml.Node {
	if len(all.Matches) == 1 {
		return w.match(all.Matches[0])
	}
	ms := &yaml.Node{Kind: yaml.SequenceNode}
	for _, m := range all.Matches {
		ms.Content = append(ms.Content, w.match(m))
	}
	return ymap(ystr("all_of"), ms)
}

func (w *yamlWriter) match(mt *Match) *yaml.Node {
	m := ymap(ystr("match"), w.function(mt.FunctionID))
	var p0, p1 Type
	var has0, has1 bool
	if f, ok := w.reg.Lookup(mt.FunctionID); ok && !f.HigherOrder {
		p0, has0 = paramType(f, 0)
		p1, has1 = paramType(f, 1)
	}
	if v := mt.Value; v != nil {
		m.Content = append(m.Content, ystr("value"), scalar(v.DataType, v.Value))
		if !has0 || p0.Bag || p0.DataType != v.DataType {
			m.Content = append(m.Content, ystr("type"), dataTypeNode(v.DataType))
		}
		if len(v.XMLAttrs) > 0 {
			m.Content = append(m.Content, ystr("xml_attrs"), xmlAttrsNode(v.XMLAttrs))
		}
	}
	attrType := TypeString
	if has1 {
		attrType = p1.DataType
	}
	switch a := mt.Attribute.(type) {
	case *AttributeDesignator:
		m.Content = append(m.Content, ystr("attr"), w.designator(a, attrType))
	case *AttributeSelector:
		m.Content = append(m.Content, ystr("selector"), w.selector(a, attrType))
	}
	return m
}

func xmlAttrsNode(attrs map[string]string) *yaml.Node {
	n := yflow(ymap())
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		n.Content = append(n.Content, ystr(k), ystr(attrs[k]))
	}
	return n
}

func (w *yamlWriter) designator(d *AttributeDesignator, defaultType string) *yaml.Node {
	m := yflow(ymap(ystr("category"), nameNode(d.Category, categoryName(d.Category), categoryID), ystr("id"), ystr(d.AttributeID)))
	if d.DataType != defaultType {
		m.Content = append(m.Content, ystr("type"), dataTypeNode(d.DataType))
	}
	yadd(m, "issuer", ystr(d.Issuer))
	if d.MustBePresent {
		m.Content = append(m.Content, ystr("must_be_present"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	return m
}

func (w *yamlWriter) selector(s *AttributeSelector, defaultType string) *yaml.Node {
	m := yflow(ymap(ystr("category"), nameNode(s.Category, categoryName(s.Category), categoryID), ystr("path"), ystr(s.Path)))
	yadd(m, "context", ystr(s.ContextSelectorID))
	if s.DataType != defaultType {
		m.Content = append(m.Content, ystr("type"), dataTypeNode(s.DataType))
	}
	if s.MustBePresent {
		m.Content = append(m.Content, ystr("must_be_present"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
	}
	return m
}

// expr writes an expression; ctx is the type its position expects, as the
// parser will infer it (see yamlParser.expr).
func (w *yamlWriter) expr(e Expr, ctx Type, hasCtx bool) *yaml.Node {
	primCtx := hasCtx && !ctx.Bag && ctx.Func == nil && ctx.DataType != ""
	defaultType := TypeString
	if hasCtx && ctx.Func == nil && ctx.DataType != "" {
		defaultType = ctx.DataType
	}
	switch e := e.(type) {
	case *AttributeValue:
		if len(e.XMLAttrs) == 0 {
			if primCtx && ctx.DataType == e.DataType {
				return scalar(e.DataType, e.Value)
			}
			if !primCtx {
				if tag := naturalTag(e.DataType); tag == "!!str" || (tag != "" && plainTag(e.Value) == tag) {
					return scalar(e.DataType, e.Value)
				}
			}
		}
		m := yflow(ymap(ystr("value"), ystr(e.Value), ystr("type"), dataTypeNode(e.DataType)))
		if len(e.XMLAttrs) > 0 {
			m.Content = append(m.Content, ystr("xml_attrs"), xmlAttrsNode(e.XMLAttrs))
		}
		return m
	case *AttributeDesignator:
		return yflow(ymap(ystr("attr"), w.designator(e, defaultType)))
	case *AttributeSelector:
		return yflow(ymap(ystr("selector"), w.selector(e, defaultType)))
	case *VariableReference:
		return yflow(ymap(ystr("var"), ystr(e.VariableID)))
	case *FunctionRef:
		return yflow(ymap(ystr("function"), w.function(e.FunctionID)))
	case *Apply:
		return w.apply(e)
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

// nameNode writes an identifier: its short name when it has one, else the
// identifier, tagged !literal when the parser would take it for a short
// name of something else.
func nameNode(id, short string, resolve func(string) string) *yaml.Node {
	if short != id {
		return ystr(short)
	}
	if resolve(id) != id {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: literalTag, Value: id}
	}
	return ystr(id)
}

func dataTypeNode(id string) *yaml.Node { return nameNode(id, dataTypeName(id), dataTypeID) }

func (w *yamlWriter) function(id string) *yaml.Node {
	return nameNode(id, w.reg.functionName(id), w.reg.functionID)
}

func (w *yamlWriter) apply(a *Apply) *yaml.Node {
	fname := w.function(a.FunctionID)
	name := fname.Value
	f, known := w.reg.Lookup(a.FunctionID)
	args := &yaml.Node{Kind: yaml.SequenceNode}
	leaves := true
	for i, arg := range a.Args {
		var ctx Type
		hasCtx := false
		if known && !f.HigherOrder {
			ctx, hasCtx = paramType(f, i)
		}
		if _, isApply := arg.(*Apply); isApply {
			leaves = false
		}
		args.Content = append(args.Content, w.expr(arg, ctx, hasCtx))
	}
	if leaves {
		args.Style = yaml.FlowStyle
	}
	if a.Description == "" && !isReservedYAMLKey(name) && fname.Tag != literalTag {
		return ymap(ystr(name), args)
	}
	m := ymap(ystr("apply"), fname)
	yadd(m, "description", ystr(a.Description))
	m.Content = append(m.Content, ystr("args"), args)
	return m
}
