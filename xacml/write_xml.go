package xacml

import (
	"fmt"
	"io"
)

// WriteXML writes a policy or policy set as an XACML 3.0 XML document in
// the schema's element order. Values are written with their lexical forms
// unchanged (whitespace in strings survives as character references), so
// ParseXML of the output gives back the same model. Policies and policy
// sets always get a <Target/>, which the schema requires.
func WriteXML(w io.Writer, e Evaluable) error {
	x := &xmlWriter{}
	x.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	switch e := e.(type) {
	case *Policy:
		writePolicyXML(x, e, true)
	case *PolicySet:
		writePolicySetXML(x, e, true)
	default:
		return fmt.Errorf("xacml: cannot write %T as XML", e)
	}
	_, err := io.WriteString(w, x.b.String())
	return err
}

// nsAttr returns the xmlns attribute pair for the document element only.
func nsAttr(top bool) []string {
	if top {
		return []string{"xmlns", Namespace}
	}
	return nil
}

func writePolicySetXML(x *xmlWriter, ps *PolicySet, top bool) {
	attrs := append(nsAttr(top), "PolicySetId", ps.ID, "!Version", ps.Version,
		"PolicyCombiningAlgId", ps.CombiningAlg, "MaxDelegationDepth", ps.MaxDelegationDepth)
	x.open("PolicySet", attrs...)
	if ps.Description != "" {
		x.leaf("Description", ps.Description)
	}
	writeTargetXML(x, ps.Target, true)
	for _, c := range ps.Children {
		switch c := c.(type) {
		case *Policy:
			writePolicyXML(x, c, false)
		case *PolicySet:
			writePolicySetXML(x, c, false)
		case *Reference:
			x.leaf(c.Kind.String()+"IdReference", c.ID, "Version", c.Version,
				"EarliestVersion", c.EarliestVersion, "LatestVersion", c.LatestVersion)
		}
	}
	writeEffectExpressionsXML(x, ps.Obligations, false)
	writeEffectExpressionsXML(x, ps.Advice, true)
	x.close("PolicySet")
}

func writePolicyXML(x *xmlWriter, p *Policy, top bool) {
	attrs := append(nsAttr(top), "PolicyId", p.ID, "!Version", p.Version,
		"RuleCombiningAlgId", p.CombiningAlg, "MaxDelegationDepth", p.MaxDelegationDepth)
	x.open("Policy", attrs...)
	if p.Description != "" {
		x.leaf("Description", p.Description)
	}
	writeTargetXML(x, p.Target, true)
	for _, v := range p.Variables {
		x.open("VariableDefinition", "VariableId", v.ID)
		writeExprXML(x, v.Expr)
		x.close("VariableDefinition")
	}
	for _, r := range p.Rules {
		writeRuleXML(x, r)
	}
	writeEffectExpressionsXML(x, p.Obligations, false)
	writeEffectExpressionsXML(x, p.Advice, true)
	x.close("Policy")
}

func writeRuleXML(x *xmlWriter, r *Rule) {
	if r.Description == "" && r.Target == nil && r.Condition == nil && len(r.Obligations) == 0 && len(r.Advice) == 0 {
		x.empty("Rule", "RuleId", r.ID, "Effect", string(r.Effect))
		return
	}
	x.open("Rule", "RuleId", r.ID, "Effect", string(r.Effect))
	if r.Description != "" {
		x.leaf("Description", r.Description)
	}
	writeTargetXML(x, r.Target, false)
	if r.Condition != nil {
		x.open("Condition")
		writeExprXML(x, r.Condition)
		x.close("Condition")
	}
	writeEffectExpressionsXML(x, r.Obligations, false)
	writeEffectExpressionsXML(x, r.Advice, true)
	x.close("Rule")
}

// writeTargetXML writes a target; an empty one only when required.
func writeTargetXML(x *xmlWriter, t *Target, required bool) {
	if t == nil || len(t.AnyOf) == 0 {
		if required {
			x.empty("Target")
		}
		return
	}
	x.open("Target")
	for _, any := range t.AnyOf {
		x.open("AnyOf")
		for _, all := range any.AllOf {
			x.open("AllOf")
			for _, m := range all.Matches {
				x.open("Match", "MatchId", m.FunctionID)
				if m.Value != nil {
					writeExprXML(x, m.Value)
				}
				if m.Attribute != nil {
					writeExprXML(x, m.Attribute)
				}
				x.close("Match")
			}
			x.close("AllOf")
		}
		x.close("AnyOf")
	}
	x.close("Target")
}

func writeEffectExpressionsXML(x *xmlWriter, list []*EffectExpression, advice bool) {
	if len(list) == 0 {
		return
	}
	listName, itemName, idAttr, effectAttr := "ObligationExpressions", "ObligationExpression", "ObligationId", "FulfillOn"
	if advice {
		listName, itemName, idAttr, effectAttr = "AdviceExpressions", "AdviceExpression", "AdviceId", "AppliesTo"
	}
	x.open(listName)
	for _, e := range list {
		if len(e.Assignments) == 0 {
			x.empty(itemName, idAttr, e.ID, effectAttr, string(e.Effect))
			continue
		}
		x.open(itemName, idAttr, e.ID, effectAttr, string(e.Effect))
		for _, a := range e.Assignments {
			x.open("AttributeAssignmentExpression", "AttributeId", a.AttributeID, "Category", a.Category, "Issuer", a.Issuer)
			writeExprXML(x, a.Expr)
			x.close("AttributeAssignmentExpression")
		}
		x.close(itemName)
	}
	x.close(listName)
}

func writeExprXML(x *xmlWriter, e Expr) {
	switch e := e.(type) {
	case *Apply:
		if e.Description == "" && len(e.Args) == 0 {
			x.empty("Apply", "FunctionId", e.FunctionID)
			return
		}
		x.open("Apply", "FunctionId", e.FunctionID)
		if e.Description != "" {
			x.leaf("Description", e.Description)
		}
		for _, a := range e.Args {
			writeExprXML(x, a)
		}
		x.close("Apply")
	case *AttributeValue:
		x.leaf("AttributeValue", e.Value, attributeValueAttrs(e)...)
	case *AttributeDesignator:
		x.empty("AttributeDesignator", "AttributeId", e.AttributeID, "Category", e.Category,
			"DataType", e.DataType, "Issuer", e.Issuer, "MustBePresent", boolText(e.MustBePresent))
	case *AttributeSelector:
		x.empty("AttributeSelector", "Category", e.Category, "ContextSelectorId", e.ContextSelectorID,
			"Path", e.Path, "DataType", e.DataType, "MustBePresent", boolText(e.MustBePresent))
	case *VariableReference:
		x.empty("VariableReference", "VariableId", e.VariableID)
	case *FunctionRef:
		x.empty("Function", "FunctionId", e.FunctionID)
	}
}
