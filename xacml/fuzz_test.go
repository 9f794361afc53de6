package xacml

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// addConformanceSeeds adds a few files of the conformance suite to the
// corpus when the suite is present (it is not copied into the repository).
func addConformanceSeeds(f *testing.F, pattern string, limit int) {
	dir := os.Getenv("VERDICT_CONFORMANCE_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "conformance")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "xacml3", "*", pattern))
	for i, file := range files {
		if i >= limit {
			break
		}
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
}

func FuzzParseXML(f *testing.F) {
	f.Add([]byte(cond(apply(f1+"string-equal", apply(f1+"string-one-and-only", ad("string")), av("string", "  a  ")))))
	f.Add([]byte(policySet("s", `<PolicyIdReference Version="1.*">p</PolicyIdReference>`+pol(`<VariableDefinition VariableId="v">`+av("double", "27.50")+`</VariableDefinition>`))))
	f.Add([]byte(polTarget(`<Match MatchId="` + f1 + `string-equal">` + av("string", "a") + ad("string") + `</Match>`)))
	f.Add([]byte(pol(`<Rule RuleId="r" Effect="Permit"><Description> x
	  y </Description><ObligationExpressions><ObligationExpression ObligationId="o" FulfillOn="Permit"><AttributeAssignmentExpression AttributeId="a">` + apply(f3+"any-of", fn(f1+"string-equal"), av("string", "x"), ad("string")) + `</AttributeAssignmentExpression></ObligationExpression></ObligationExpressions></Rule>`)))
	addConformanceSeeds(f, "Policy.xml", 8)
	reg := StandardFunctions()
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseXML("f.xml", data)
		if err != nil {
			return
		}
		_, _ = Check(nil, e, reg)
		var x bytes.Buffer
		if err := WriteXML(&x, e); err != nil {
			t.Fatal(err)
		}
		again, err := ParseXML("again.xml", x.Bytes())
		if err != nil {
			t.Fatalf("written XML does not parse: %v\n%s", err, x.String())
		}
		var y bytes.Buffer
		if err := WriteYAML(&y, e); err != nil {
			t.Fatal(err)
		}
		fromYAML, err := ParseYAML("f.yaml", y.Bytes())
		if err != nil {
			t.Fatalf("written YAML does not parse: %v\n%s", err, y.String())
		}
		ref, _ := ParseXML("f.xml", data)
		if !sameModel(ref, again) {
			t.Fatalf("XML round trip changed the model:\n%s", x.String())
		}
		if !sameModel(ref, fromYAML) {
			t.Fatalf("YAML conversion changed the model:\n%s", y.String())
		}
	})
}

func FuzzParseYAML(f *testing.F) {
	f.Add([]byte("policy: p\ncombining: deny-overrides\nrules:\n  - id: r\n    effect: Permit\n    condition: {string-equal: [{string-one-and-only: {attr: {category: subject, id: x}}}, \"  a \"]}\n"))
	f.Add([]byte("policyset: s\ncombining: first-applicable\npolicies:\n  - policy_ref: {id: p, version: \"1.*\"}\n  - policy: q\n    combining: permit-overrides\n    variables: {v: 27.50}\n"))
	f.Add([]byte("policy: p\ncombining: deny-overrides\ntarget:\n  - any_of:\n      - {match: string-equal, value: a, attr: {category: action, id: action-id}}\n      - all_of: [{match: integer-less-than, value: 5, attr: {category: subject, id: n}}]\n"))
	f.Add([]byte("policy: p\ncombining: deny-overrides\nobligations:\n  - id: o\n    on: Deny\n    assign: [{id: a, value: {value: P1D, type: dayTimeDuration}}, {id: b, value: {any-of: [{function: string-equal}, x, {attr: {category: subject, id: y}}]}}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	reg := StandardFunctions()
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseYAML("f.yaml", data)
		if err != nil {
			return
		}
		_, _ = Check(nil, e, reg)
		var y bytes.Buffer
		if err := WriteYAML(&y, e); err != nil {
			t.Fatal(err)
		}
		again, err := ParseYAML("again.yaml", y.Bytes())
		if err != nil {
			t.Fatalf("written YAML does not parse: %v\n%s", err, y.String())
		}
		ref, _ := ParseYAML("f.yaml", data)
		if !sameModel(ref, again) {
			t.Fatalf("YAML round trip changed the model:\n%s", y.String())
		}
		var x bytes.Buffer
		if err := WriteXML(&x, e); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseRequestXML(f *testing.F) {
	f.Add([]byte(`<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="true" CombinedDecision="false">
  <Attributes Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject">
    <Attribute AttributeId="a" Issuer="i" IncludeInResult="true"><AttributeValue DataType="http://www.w3.org/2001/XMLSchema#double"> 27.50 </AttributeValue></Attribute>
  </Attributes>
  <Attributes Category="c"><Content/></Attributes>
</Request>`))
	addConformanceSeeds(f, "Request.xml", 6)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := ParseRequestXML("r.xml", data)
		if err != nil {
			return
		}
		resp := &Response{Results: []*Result{{Decision: DecisionNotApplicable, Attributes: req.IncludedAttributes(), ReturnPolicyIDList: req.ReturnPolicyIDList}}}
		var buf bytes.Buffer
		if err := resp.WriteXML(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := ParseResponseXML("resp.xml", buf.Bytes())
		if err != nil {
			t.Fatalf("written response does not parse: %v\n%s", err, buf.String())
		}
		if len(back.Results) != 1 || len(back.Results[0].Attributes) != len(resp.Results[0].Attributes) {
			t.Fatalf("echoed attributes lost:\n%s", buf.String())
		}
	})
}
