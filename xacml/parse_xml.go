package xacml

import (
	"strings"
)

// DefaultVersion is the Version a Policy or PolicySet has when its document
// gives none (the XACML 2.0 default; XACML 3.0 requires the attribute).
const DefaultVersion = "1.0"

// ParseXML parses one XACML 3.0 <Policy> or <PolicySet> document. file names
// the source in positions and errors. Elements may use any prefix for the
// XACML 3.0 namespace, or no namespace. Parsing checks structure only
// (elements, attributes, multiplicity); Check validates meaning. All
// problems found are returned together, the first one first.
//
// Normalisation: AttributeValue text gets the whitespace processing of its
// data type (see NormalizeValue), data type identifiers are canonical
// (legacy duration identifiers become the 3.0 ones), Description text is
// trimmed and dedented, an empty <Target/> becomes a nil Target, a missing Version is
// DefaultVersion. CombinerParameters, PolicyIssuer and the *Defaults
// elements are ignored.
func ParseXML(file string, data []byte) (Evaluable, error) {
	root, err := readXMLTree(file, data)
	if err != nil {
		return nil, err
	}
	return policyFromXMLTree(file, root)
}

// policyFromXMLTree converts an element tree whose root is a Policy or
// PolicySet.
func policyFromXMLTree(file string, root *xmlNode) (Evaluable, error) {
	p := &xmlPolicyParser{file: file}
	var out Evaluable
	switch {
	case root.name.Space == namespaceXACML2 || root.name.Space == namespaceXACML1:
		p.errs.add(root.pos(file), ErrUnsupported, "XACML 1.0/2.0 documents are not supported; convert the policy to XACML 3.0 (namespace %s)", Namespace)
	case !isXACMLSpace(root.name.Space):
		p.errs.add(root.pos(file), ErrSyntax, "root element is in namespace %q, not the XACML 3.0 namespace %s", root.name.Space, Namespace)
	case root.name.Local == "Policy":
		out = p.policy(root)
	case root.name.Local == "PolicySet":
		out = p.policySet(root)
	default:
		p.errs.add(root.pos(file), ErrSyntax, "root element must be <Policy> or <PolicySet>")
	}
	if err := p.errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// xmlPolicyParser converts an element tree into the model, collecting errors.
type xmlPolicyParser struct {
	file string
	errs errorList
}

func (p *xmlPolicyParser) pos(n *xmlNode) Pos { return n.pos(p.file) }

func (p *xmlPolicyParser) elements(n *xmlNode, allowed ...string) map[string][]*xmlNode {
	if strings.Trim(n.text.String(), xmlSpace) != "" {
		p.errs.add(p.pos(n), ErrSyntax, "unexpected text inside <%s>", n.name.Local)
	}
	return xmlElements(p.file, n, &p.errs, allowed...)
}

func (p *xmlPolicyParser) attrs(n *xmlNode, allowed ...string) map[string]string {
	return xmlAttrs(p.file, n, &p.errs, allowed...)
}

func (p *xmlPolicyParser) version(a map[string]string) string {
	if v, ok := a["Version"]; ok {
		return strings.Trim(v, xmlSpace)
	}
	return DefaultVersion
}

func (p *xmlPolicyParser) policySet(n *xmlNode) *PolicySet {
	a := p.attrs(n, "PolicySetId", "Version", "PolicyCombiningAlgId", "MaxDelegationDepth")
	kids := p.elements(n, "Description", "PolicyIssuer", "PolicySetDefaults", "Target",
		"Policy", "PolicySet", "PolicyIdReference", "PolicySetIdReference",
		"CombinerParameters", "PolicyCombinerParameters", "PolicySetCombinerParameters",
		"ObligationExpressions", "AdviceExpressions")
	ps := &PolicySet{
		ID:                 collapseWhitespace(a["PolicySetId"]),
		Version:            p.version(a),
		CombiningAlg:       collapseWhitespace(a["PolicyCombiningAlgId"]),
		MaxDelegationDepth: a["MaxDelegationDepth"],
		Description:        p.description(n, kids),
		Target:             p.target(onlyChild(p.file, n, kids, "Target", &p.errs)),
		Pos:                p.pos(n),
	}
	for _, c := range n.children {
		if !isXACMLSpace(c.name.Space) {
			continue
		}
		switch c.name.Local {
		case "Policy":
			ps.Children = append(ps.Children, p.policy(c))
		case "PolicySet":
			ps.Children = append(ps.Children, p.policySet(c))
		case "PolicyIdReference":
			ps.Children = append(ps.Children, p.reference(c, KindPolicy))
		case "PolicySetIdReference":
			ps.Children = append(ps.Children, p.reference(c, KindPolicySet))
		}
	}
	ps.Obligations = p.effectExpressions(n, kids, "ObligationExpressions", "ObligationExpression", "ObligationId", "FulfillOn")
	ps.Advice = p.effectExpressions(n, kids, "AdviceExpressions", "AdviceExpression", "AdviceId", "AppliesTo")
	return ps
}

func (p *xmlPolicyParser) policy(n *xmlNode) *Policy {
	a := p.attrs(n, "PolicyId", "Version", "RuleCombiningAlgId", "MaxDelegationDepth")
	kids := p.elements(n, "Description", "PolicyIssuer", "PolicyDefaults", "Target",
		"CombinerParameters", "RuleCombinerParameters", "VariableDefinition", "Rule",
		"ObligationExpressions", "AdviceExpressions")
	pol := &Policy{
		ID:                 collapseWhitespace(a["PolicyId"]),
		Version:            p.version(a),
		CombiningAlg:       collapseWhitespace(a["RuleCombiningAlgId"]),
		MaxDelegationDepth: a["MaxDelegationDepth"],
		Description:        p.description(n, kids),
		Target:             p.target(onlyChild(p.file, n, kids, "Target", &p.errs)),
		Pos:                p.pos(n),
	}
	for _, v := range kids["VariableDefinition"] {
		va := p.attrs(v, "VariableId")
		pol.Variables = append(pol.Variables, &VariableDefinition{
			ID:   va["VariableId"],
			Expr: p.singleExpression(v),
			Pos:  p.pos(v),
		})
	}
	for _, r := range kids["Rule"] {
		pol.Rules = append(pol.Rules, p.rule(r))
	}
	pol.Obligations = p.effectExpressions(n, kids, "ObligationExpressions", "ObligationExpression", "ObligationId", "FulfillOn")
	pol.Advice = p.effectExpressions(n, kids, "AdviceExpressions", "AdviceExpression", "AdviceId", "AppliesTo")
	return pol
}

func (p *xmlPolicyParser) rule(n *xmlNode) *Rule {
	a := p.attrs(n, "RuleId", "Effect")
	kids := p.elements(n, "Description", "Target", "Condition", "ObligationExpressions", "AdviceExpressions")
	r := &Rule{
		ID:          a["RuleId"],
		Effect:      Effect(strings.Trim(a["Effect"], xmlSpace)),
		Description: p.description(n, kids),
		Target:      p.target(onlyChild(p.file, n, kids, "Target", &p.errs)),
		Pos:         p.pos(n),
	}
	if c := onlyChild(p.file, n, kids, "Condition", &p.errs); c != nil {
		p.attrs(c)
		r.Condition = p.singleExpression(c)
	}
	r.Obligations = p.effectExpressions(n, kids, "ObligationExpressions", "ObligationExpression", "ObligationId", "FulfillOn")
	r.Advice = p.effectExpressions(n, kids, "AdviceExpressions", "AdviceExpression", "AdviceId", "AppliesTo")
	return r
}

func (p *xmlPolicyParser) description(parent *xmlNode, kids map[string][]*xmlNode) string {
	d := onlyChild(p.file, parent, kids, "Description", &p.errs)
	if d == nil {
		return ""
	}
	p.attrs(d)
	if len(d.children) > 0 {
		p.errs.add(p.pos(d.children[0]), ErrSyntax, "<Description> contains only text")
	}
	return tidyDescription(d.text.String())
}

// tidyDescription trims a description and removes the indentation its
// continuation lines carry from the XML layout, so that it reads well in
// any syntax. It is idempotent, which keeps conversions stable.
func tidyDescription(s string) string {
	lines := strings.Split(strings.Trim(s, xmlSpace), "\n")
	indent := -1
	for _, l := range lines[1:] {
		if strings.Trim(l, " \t\r") == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for i, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if i > 0 && indent > 0 && len(l) >= indent {
			l = l[indent:]
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

func (p *xmlPolicyParser) reference(n *xmlNode, kind PolicyKind) *Reference {
	a := p.attrs(n, "Version", "EarliestVersion", "LatestVersion")
	if len(n.children) > 0 {
		p.errs.add(p.pos(n.children[0]), ErrSyntax, "<%s> contains only the referenced identifier", n.name.Local)
	}
	return &Reference{
		Kind:            kind,
		ID:              collapseWhitespace(n.text.String()),
		Version:         strings.Trim(a["Version"], xmlSpace),
		EarliestVersion: strings.Trim(a["EarliestVersion"], xmlSpace),
		LatestVersion:   strings.Trim(a["LatestVersion"], xmlSpace),
		Pos:             p.pos(n),
	}
}

// target converts a <Target>; an empty one is nil, as both match everything.
func (p *xmlPolicyParser) target(n *xmlNode) *Target {
	if n == nil {
		return nil
	}
	p.attrs(n)
	t := &Target{Pos: p.pos(n)}
	for _, any := range p.elements(n, "AnyOf")["AnyOf"] {
		p.attrs(any)
		ao := &AnyOf{Pos: p.pos(any)}
		for _, all := range p.elements(any, "AllOf")["AllOf"] {
			p.attrs(all)
			al := &AllOf{Pos: p.pos(all)}
			for _, m := range p.elements(all, "Match")["Match"] {
				al.Matches = append(al.Matches, p.match(m))
			}
			ao.AllOf = append(ao.AllOf, al)
		}
		t.AnyOf = append(t.AnyOf, ao)
	}
	if len(t.AnyOf) == 0 {
		return nil
	}
	return t
}

func (p *xmlPolicyParser) match(n *xmlNode) *Match {
	a := p.attrs(n, "MatchId")
	m := &Match{FunctionID: collapseWhitespace(a["MatchId"]), Pos: p.pos(n)}
	p.elements(n, "AttributeValue", "AttributeDesignator", "AttributeSelector")
	for _, c := range n.children {
		if !isXACMLSpace(c.name.Space) {
			continue
		}
		switch c.name.Local {
		case "AttributeValue":
			if m.Value != nil {
				p.errs.add(p.pos(c), ErrSyntax, "<Match> contains exactly one <AttributeValue>")
				continue
			}
			m.Value = p.attributeValue(c)
		case "AttributeDesignator", "AttributeSelector":
			if m.Attribute != nil {
				p.errs.add(p.pos(c), ErrSyntax, "<Match> contains exactly one <AttributeDesignator> or <AttributeSelector>")
				continue
			}
			m.Attribute = p.expression(c)
		}
	}
	if m.Value == nil {
		p.errs.add(m.Pos, ErrSyntax, "<Match> has no <AttributeValue>")
	}
	if m.Attribute == nil {
		p.errs.add(m.Pos, ErrSyntax, "<Match> has no <AttributeDesignator> or <AttributeSelector>")
	}
	return m
}

// effectExpressions converts ObligationExpressions or AdviceExpressions.
func (p *xmlPolicyParser) effectExpressions(parent *xmlNode, kids map[string][]*xmlNode, listName, itemName, idAttr, effectAttr string) []*EffectExpression {
	list := onlyChild(p.file, parent, kids, listName, &p.errs)
	if list == nil {
		return nil
	}
	p.attrs(list)
	var out []*EffectExpression
	for _, n := range p.elements(list, itemName)[itemName] {
		a := p.attrs(n, idAttr, effectAttr)
		ee := &EffectExpression{
			ID:     collapseWhitespace(a[idAttr]),
			Effect: Effect(strings.Trim(a[effectAttr], xmlSpace)),
			Pos:    p.pos(n),
		}
		for _, as := range p.elements(n, "AttributeAssignmentExpression")["AttributeAssignmentExpression"] {
			aa := p.attrs(as, "AttributeId", "Category", "Issuer")
			ee.Assignments = append(ee.Assignments, &AttributeAssignmentExpression{
				AttributeID: collapseWhitespace(aa["AttributeId"]),
				Category:    collapseWhitespace(aa["Category"]),
				Issuer:      aa["Issuer"],
				Expr:        p.singleExpression(as),
				Pos:         p.pos(as),
			})
		}
		out = append(out, ee)
	}
	return out
}

// expressionElements lists the members of the XACML Expression substitution group.
func expressionElements() []string {
	return []string{"Apply", "AttributeValue", "AttributeDesignator", "AttributeSelector", "VariableReference", "Function"}
}

// singleExpression converts the one expression child of n (a Condition,
// VariableDefinition or AttributeAssignmentExpression).
func (p *xmlPolicyParser) singleExpression(n *xmlNode) Expr {
	p.elements(n, expressionElements()...)
	var exprs []Expr
	for _, c := range n.children {
		if isXACMLSpace(c.name.Space) && isExpressionElement(c.name.Local) {
			exprs = append(exprs, p.expression(c))
		}
	}
	if len(exprs) != 1 {
		p.errs.add(p.pos(n), ErrSyntax, "<%s> must contain exactly one expression, found %d", n.name.Local, len(exprs))
		if len(exprs) == 0 {
			return nil
		}
	}
	return exprs[0]
}

func isExpressionElement(local string) bool {
	for _, e := range expressionElements() {
		if e == local {
			return true
		}
	}
	return false
}

// expression converts one element of the Expression substitution group.
func (p *xmlPolicyParser) expression(n *xmlNode) Expr {
	switch n.name.Local {
	case "Apply":
		a := p.attrs(n, "FunctionId")
		ap := &Apply{FunctionID: collapseWhitespace(a["FunctionId"]), Pos: p.pos(n)}
		kids := p.elements(n, append(expressionElements(), "Description")...)
		ap.Description = p.description(n, kids)
		for _, c := range n.children {
			if isXACMLSpace(c.name.Space) && isExpressionElement(c.name.Local) {
				ap.Args = append(ap.Args, p.expression(c))
			}
		}
		return ap
	case "AttributeValue":
		return p.attributeValue(n)
	case "AttributeDesignator":
		a := p.attrs(n, "Category", "AttributeId", "DataType", "Issuer", "MustBePresent")
		p.elements(n)
		return &AttributeDesignator{
			Category:      collapseWhitespace(a["Category"]),
			AttributeID:   collapseWhitespace(a["AttributeId"]),
			DataType:      canonicalOrRaw(a["DataType"]),
			Issuer:        a["Issuer"],
			MustBePresent: xmlBool(p.file, n, a, "MustBePresent", false, &p.errs),
			Pos:           p.pos(n),
		}
	case "AttributeSelector":
		a := p.attrs(n, "Category", "Path", "ContextSelectorId", "DataType", "MustBePresent")
		p.elements(n)
		return &AttributeSelector{
			Category:          collapseWhitespace(a["Category"]),
			Path:              a["Path"],
			ContextSelectorID: a["ContextSelectorId"],
			DataType:          canonicalOrRaw(a["DataType"]),
			MustBePresent:     xmlBool(p.file, n, a, "MustBePresent", false, &p.errs),
			Pos:               p.pos(n),
		}
	case "VariableReference":
		a := p.attrs(n, "VariableId")
		p.elements(n)
		return &VariableReference{VariableID: a["VariableId"], Pos: p.pos(n)}
	case "Function":
		a := p.attrs(n, "FunctionId")
		p.elements(n)
		return &FunctionRef{FunctionID: collapseWhitespace(a["FunctionId"]), Pos: p.pos(n)}
	}
	p.errs.add(p.pos(n), ErrSyntax, "<%s> is not an expression", n.name.Local)
	return nil
}

// attributeValue converts an <AttributeValue>; unqualified attributes other
// than DataType are kept in XMLAttrs.
func (p *xmlPolicyParser) attributeValue(n *xmlNode) *AttributeValue {
	v := &AttributeValue{Pos: p.pos(n)}
	for _, a := range n.attrs {
		if a.Name.Space != "" || a.Name.Local == "xmlns" {
			continue
		}
		if a.Name.Local == "DataType" {
			v.DataType = canonicalOrRaw(a.Value)
			continue
		}
		if v.XMLAttrs == nil {
			v.XMLAttrs = map[string]string{}
		}
		v.XMLAttrs[a.Name.Local] = a.Value
	}
	if len(n.children) > 0 {
		p.errs.add(p.pos(n.children[0]), ErrUnsupported, "<AttributeValue> with element content is not supported")
	}
	v.Value = NormalizeValue(v.DataType, n.text.String())
	return v
}

// canonicalOrRaw returns the canonical identifier of a known data type, or
// the (trimmed) identifier as written for validation to report.
func canonicalOrRaw(id string) string {
	id = strings.Trim(id, xmlSpace)
	if c, ok := CanonicalDataType(id); ok {
		return c
	}
	return id
}
