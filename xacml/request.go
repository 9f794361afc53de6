package xacml

import (
	"strings"
)

// Request is an XACML 3.0 decision request: the attributes of each category
// and the two flags that shape the response. Only the core single-decision
// form is supported: <MultiRequests> and <Content> (which only XPath could
// use) are refused.
type Request struct {
	// ReturnPolicyIDList asks for the PolicyIdentifierList of the policies
	// that contributed to the decision.
	ReturnPolicyIDList bool
	// CombinedDecision is kept for completeness; with a single decision per
	// request it changes nothing.
	CombinedDecision bool
	// Attributes are the <Attributes> elements in document order; a category
	// may appear more than once, and consumers merge them.
	Attributes []*Attributes
	Pos        Pos
}

// Attributes is the group of attributes of one category in a request, and
// also the group echoed in a Result.
type Attributes struct {
	Category string
	// XMLID is the optional xml:id attribute, kept for echoing.
	XMLID      string
	Attributes []*Attribute
	Pos        Pos
}

// Attribute is one named attribute with its bag of values.
type Attribute struct {
	AttributeID string
	Issuer      string
	// IncludeInResult asks the PDP to echo the attribute in the Result.
	IncludeInResult bool
	// Values keep their DataType (canonical when known) and their lexical
	// form after the data type's whitespace processing (NormalizeValue).
	Values []*AttributeValue
	Pos    Pos
}

// IncludedAttributes returns the attributes the Result must echo: for each
// <Attributes> group, those with IncludeInResult, in request order, leaving
// out groups with none.
func (r *Request) IncludedAttributes() []*Attributes {
	var out []*Attributes
	for _, g := range r.Attributes {
		var kept []*Attribute
		for _, a := range g.Attributes {
			if a.IncludeInResult {
				kept = append(kept, a)
			}
		}
		if len(kept) > 0 {
			out = append(out, &Attributes{Category: g.Category, XMLID: g.XMLID, Attributes: kept, Pos: g.Pos})
		}
	}
	return out
}

// xmlNamespace is the namespace of the xml: prefix (for xml:id).
const xmlNamespace = "http://www.w3.org/XML/1998/namespace"

// ParseRequestXML parses an XACML 3.0 <Request>. Attribute values are
// returned as written (after whitespace processing) without checking their
// lexical form: an invalid value in a request is a matter for evaluation
// (CheckLexical tells), not a reason to refuse the document.
func ParseRequestXML(file string, data []byte) (*Request, error) {
	root, err := readXMLTree(file, data)
	if err != nil {
		return nil, err
	}
	var errs errorList
	req := &Request{Pos: root.pos(file)}
	switch {
	case root.name.Space == namespaceCtx2:
		errs.add(root.pos(file), ErrUnsupported, "XACML 2.0 requests are not supported; use the XACML 3.0 namespace %s", Namespace)
		return nil, errs.err()
	case !isXACMLSpace(root.name.Space) || root.name.Local != "Request":
		errs.add(root.pos(file), ErrSyntax, "root element must be an XACML 3.0 <Request>")
		return nil, errs.err()
	}
	a := xmlAttrs(file, root, &errs, "ReturnPolicyIdList", "CombinedDecision")
	req.ReturnPolicyIDList = xmlBool(file, root, a, "ReturnPolicyIdList", false, &errs)
	req.CombinedDecision = xmlBool(file, root, a, "CombinedDecision", false, &errs)
	kids := xmlElements(file, root, &errs, "RequestDefaults", "Attributes", "MultiRequests")
	if m := kids["MultiRequests"]; len(m) > 0 {
		errs.add(m[0].pos(file), ErrUnsupported, "<MultiRequests> (the multiple decision profile) is not supported: send one request per decision")
	}
	for _, g := range kids["Attributes"] {
		req.Attributes = append(req.Attributes, parseRequestAttributes(file, g, &errs))
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return req, nil
}

func parseRequestAttributes(file string, n *xmlNode, errs *errorList) *Attributes {
	a := xmlAttrs(file, n, errs, "Category")
	g := &Attributes{Category: collapseWhitespace(a["Category"]), Pos: n.pos(file)}
	for _, at := range n.attrs {
		if at.Name.Space == xmlNamespace && at.Name.Local == "id" {
			g.XMLID = at.Value
		}
	}
	if g.Category == "" {
		errs.add(g.Pos, ErrSyntax, "<Attributes> has no Category")
	}
	kids := xmlElements(file, n, errs, "Content", "Attribute")
	for _, c := range kids["Content"] {
		if len(c.children) > 0 || strings.Trim(c.text.String(), xmlSpace) != "" {
			errs.add(c.pos(file), ErrUnsupported, "<Content> is not supported: Verdict has no XPath; send the values as attributes")
		}
	}
	for _, an := range kids["Attribute"] {
		aa := xmlAttrs(file, an, errs, "AttributeId", "Issuer", "IncludeInResult")
		attr := &Attribute{
			AttributeID:     collapseWhitespace(aa["AttributeId"]),
			Issuer:          aa["Issuer"],
			IncludeInResult: xmlBool(file, an, aa, "IncludeInResult", false, errs),
			Pos:             an.pos(file),
		}
		if attr.AttributeID == "" {
			errs.add(attr.Pos, ErrSyntax, "<Attribute> has no AttributeId")
		}
		for _, vn := range xmlElements(file, an, errs, "AttributeValue")["AttributeValue"] {
			v := &AttributeValue{Pos: vn.pos(file)}
			for _, x := range vn.attrs {
				switch {
				case x.Name.Space != "" || x.Name.Local == "xmlns":
				case x.Name.Local == "DataType":
					v.DataType = canonicalOrRaw(x.Value)
				default:
					if v.XMLAttrs == nil {
						v.XMLAttrs = map[string]string{}
					}
					v.XMLAttrs[x.Name.Local] = x.Value
				}
			}
			if v.DataType == "" {
				errs.add(v.Pos, ErrSyntax, "<AttributeValue> has no DataType")
			}
			if len(vn.children) > 0 {
				errs.add(vn.children[0].pos(file), ErrUnsupported, "<AttributeValue> with element content is not supported")
			}
			v.Value = NormalizeValue(v.DataType, vn.text.String())
			attr.Values = append(attr.Values, v)
		}
		if len(attr.Values) == 0 {
			errs.add(attr.Pos, ErrSyntax, "<Attribute> has no <AttributeValue>")
		}
		g.Attributes = append(g.Attributes, attr)
	}
	return g
}
