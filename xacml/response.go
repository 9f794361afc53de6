package xacml

import (
	"io"
	"maps"
	"slices"
	"strings"
)

// Decision is the outcome of evaluating a request.
type Decision string

// The four decisions of an XACML 3.0 Result. The extended Indeterminate
// values (D, P, DP) exist only during combination and are reported as
// Indeterminate.
const (
	DecisionPermit        Decision = "Permit"
	DecisionDeny          Decision = "Deny"
	DecisionNotApplicable Decision = "NotApplicable"
	DecisionIndeterminate Decision = "Indeterminate"
)

// Response is an XACML 3.0 decision response.
type Response struct {
	Results []*Result
}

// Result is the answer to one decision request.
type Result struct {
	Decision Decision
	// Status is written as given; an empty Code is written as StatusOK.
	Status      Status
	Obligations []*Obligation
	Advice      []*Advice
	// Attributes are the request attributes echoed because of
	// IncludeInResult (Request.IncludedAttributes).
	Attributes []*Attributes
	// PolicyIdentifiers is written when ReturnPolicyIdList was requested.
	PolicyIdentifiers []PolicyIdentifier
	// ReturnPolicyIDList writes a PolicyIdentifierList even when it is empty.
	ReturnPolicyIDList bool
}

// Status explains a decision, in particular an Indeterminate one.
type Status struct {
	// Code is the top-level StatusCode Value (StatusOK, StatusMissingAttribute, ...).
	Code string
	// SubCode, when set, is written as a nested StatusCode.
	SubCode string
	Message string
}

// Obligation is an obligation returned with a decision: the PEP must
// fulfil it or not enforce the decision.
type Obligation struct {
	ID          string
	Assignments []*AttributeAssignment
}

// Advice is advice returned with a decision: the PEP may ignore it. It has
// the shape of an Obligation but a different element and meaning.
type Advice struct {
	ID          string
	Assignments []*AttributeAssignment
}

// AttributeAssignment is one evaluated attribute of an obligation or advice.
type AttributeAssignment struct {
	AttributeID string
	Category    string
	Issuer      string
	DataType    string
	// Value is the lexical form of the value.
	Value string
}

// PolicyIdentifier names a policy or policy set that took part in a decision.
type PolicyIdentifier struct {
	Kind    PolicyKind
	ID      string
	Version string
}

// WriteXML writes the response as an XACML 3.0 <Response> document, in the
// element order of the schema: Decision, Status, Obligations,
// AssociatedAdvice, Attributes, PolicyIdentifierList.
func (r *Response) WriteXML(w io.Writer) error {
	x := &xmlWriter{}
	x.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	x.open("Response", "xmlns", Namespace)
	for _, res := range r.Results {
		writeResult(x, res)
	}
	x.close("Response")
	_, err := io.WriteString(w, x.b.String())
	return err
}

func writeResult(x *xmlWriter, res *Result) {
	x.open("Result")
	x.leaf("Decision", string(res.Decision))
	x.open("Status")
	code := res.Status.Code
	if code == "" {
		code = StatusOK
	}
	if res.Status.SubCode != "" {
		x.open("StatusCode", "Value", code)
		x.empty("StatusCode", "Value", res.Status.SubCode)
		x.close("StatusCode")
	} else {
		x.empty("StatusCode", "Value", code)
	}
	if res.Status.Message != "" {
		x.leaf("StatusMessage", res.Status.Message)
	}
	x.close("Status")
	if len(res.Obligations) > 0 {
		x.open("Obligations")
		for _, o := range res.Obligations {
			writeAssignments(x, "Obligation", "ObligationId", o.ID, o.Assignments)
		}
		x.close("Obligations")
	}
	if len(res.Advice) > 0 {
		x.open("AssociatedAdvice")
		for _, a := range res.Advice {
			writeAssignments(x, "Advice", "AdviceId", a.ID, a.Assignments)
		}
		x.close("AssociatedAdvice")
	}
	for _, g := range res.Attributes {
		x.open("Attributes", "Category", g.Category, "xml:id", g.XMLID)
		for _, a := range g.Attributes {
			x.open("Attribute", "AttributeId", a.AttributeID, "Issuer", a.Issuer, "IncludeInResult", boolText(a.IncludeInResult))
			for _, v := range a.Values {
				x.leaf("AttributeValue", v.Value, attributeValueAttrs(v)...)
			}
			x.close("Attribute")
		}
		x.close("Attributes")
	}
	if res.ReturnPolicyIDList || len(res.PolicyIdentifiers) > 0 {
		if len(res.PolicyIdentifiers) == 0 {
			x.empty("PolicyIdentifierList")
		} else {
			x.open("PolicyIdentifierList")
			for _, p := range res.PolicyIdentifiers {
				x.leaf(p.Kind.String()+"IdReference", p.ID, "Version", p.Version)
			}
			x.close("PolicyIdentifierList")
		}
	}
	x.close("Result")
}

func writeAssignments(x *xmlWriter, element, idAttr, id string, as []*AttributeAssignment) {
	if len(as) == 0 {
		x.empty(element, idAttr, id)
		return
	}
	x.open(element, idAttr, id)
	for _, a := range as {
		x.leaf("AttributeAssignment", a.Value, "AttributeId", a.AttributeID, "DataType", a.DataType, "Category", a.Category, "Issuer", a.Issuer)
	}
	x.close(element)
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// attributeValueAttrs returns DataType then the extra attributes in a
// stable order.
func attributeValueAttrs(v *AttributeValue) []string {
	attrs := []string{"DataType", v.DataType}
	for _, k := range slices.Sorted(maps.Keys(v.XMLAttrs)) {
		attrs = append(attrs, "!"+k, v.XMLAttrs[k])
	}
	return attrs
}

// ParseResponseXML parses an XACML 3.0 <Response>, so that tests and tools
// can compare a produced response with an expected one.
func ParseResponseXML(file string, data []byte) (*Response, error) {
	root, err := readXMLTree(file, data)
	if err != nil {
		return nil, err
	}
	var errs errorList
	if !isXACMLSpace(root.name.Space) || root.name.Local != "Response" {
		errs.add(root.pos(file), ErrSyntax, "root element must be an XACML 3.0 <Response>")
		return nil, errs.err()
	}
	resp := &Response{}
	for _, rn := range xmlElements(file, root, &errs, "Result")["Result"] {
		res := &Result{}
		kids := xmlElements(file, rn, &errs, "Decision", "Status", "Obligations", "AssociatedAdvice", "Attributes", "PolicyIdentifierList")
		if d := onlyChild(file, rn, kids, "Decision", &errs); d != nil {
			res.Decision = Decision(strings.Trim(d.text.String(), xmlSpace))
		}
		if s := onlyChild(file, rn, kids, "Status", &errs); s != nil {
			sk := xmlElements(file, s, &errs, "StatusCode", "StatusMessage", "StatusDetail")
			if c := onlyChild(file, s, sk, "StatusCode", &errs); c != nil {
				res.Status.Code, _ = c.attr("Value")
				for _, sub := range c.children {
					if sub.name.Local == "StatusCode" {
						res.Status.SubCode, _ = sub.attr("Value")
					}
				}
			}
			if m := onlyChild(file, s, sk, "StatusMessage", &errs); m != nil {
				res.Status.Message = m.text.String()
			}
		}
		if o := onlyChild(file, rn, kids, "Obligations", &errs); o != nil {
			for _, on := range xmlElements(file, o, &errs, "Obligation")["Obligation"] {
				id, _ := on.attr("ObligationId")
				res.Obligations = append(res.Obligations, &Obligation{ID: id, Assignments: parseAssignments(file, on, &errs)})
			}
		}
		if a := onlyChild(file, rn, kids, "AssociatedAdvice", &errs); a != nil {
			for _, an := range xmlElements(file, a, &errs, "Advice")["Advice"] {
				id, _ := an.attr("AdviceId")
				res.Advice = append(res.Advice, &Advice{ID: id, Assignments: parseAssignments(file, an, &errs)})
			}
		}
		for _, g := range kids["Attributes"] {
			res.Attributes = append(res.Attributes, parseRequestAttributes(file, g, &errs))
		}
		if l := onlyChild(file, rn, kids, "PolicyIdentifierList", &errs); l != nil {
			res.ReturnPolicyIDList = true
			xmlElements(file, l, &errs, "PolicyIdReference", "PolicySetIdReference")
			for _, pn := range l.children {
				kind := KindPolicy
				switch pn.name.Local {
				case "PolicyIdReference":
				case "PolicySetIdReference":
					kind = KindPolicySet
				default:
					continue
				}
				v, _ := pn.attr("Version")
				res.PolicyIdentifiers = append(res.PolicyIdentifiers, PolicyIdentifier{Kind: kind, ID: collapseWhitespace(pn.text.String()), Version: v})
			}
		}
		resp.Results = append(resp.Results, res)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return resp, nil
}

func parseAssignments(file string, n *xmlNode, errs *errorList) []*AttributeAssignment {
	var out []*AttributeAssignment
	for _, an := range xmlElements(file, n, errs, "AttributeAssignment")["AttributeAssignment"] {
		a := xmlAttrs(file, an, errs, "AttributeId", "Category", "Issuer", "DataType")
		dt := canonicalOrRaw(a["DataType"])
		out = append(out, &AttributeAssignment{
			AttributeID: a["AttributeId"],
			Category:    a["Category"],
			Issuer:      a["Issuer"],
			DataType:    dt,
			Value:       NormalizeValue(dt, an.text.String()),
		})
	}
	return out
}
