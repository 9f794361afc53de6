package xacml

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	src := `<?xml version="1.0"?>
<x:Request xmlns:x="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="true" CombinedDecision="false">
  <x:Attributes Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" xml:id="s1">
    <x:Attribute AttributeId="subject-id" Issuer="me" IncludeInResult="true">
      <x:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">  Julius  </x:AttributeValue>
      <x:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#double"> 27.50 </x:AttributeValue>
    </x:Attribute>
    <x:Attribute AttributeId="hidden" IncludeInResult="false">
      <x:AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">1</x:AttributeValue>
    </x:Attribute>
  </x:Attributes>
  <x:Attributes Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource">
    <x:Content/>
    <x:Attribute AttributeId="r" IncludeInResult="false">
      <x:AttributeValue DataType="http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration">P1D</x:AttributeValue>
    </x:Attribute>
  </x:Attributes>
</x:Request>`
	req, err := ParseRequestXML("req.xml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if !req.ReturnPolicyIDList || req.CombinedDecision || len(req.Attributes) != 2 {
		t.Fatalf("flags or groups wrong: %+v", req)
	}
	s := req.Attributes[0]
	if s.XMLID != "s1" || s.Attributes[0].Issuer != "me" || !s.Attributes[0].IncludeInResult {
		t.Fatalf("subject group wrong: %+v", s)
	}
	vals := s.Attributes[0].Values
	if vals[0].Value != "  Julius  " || vals[1].Value != "27.50" || vals[1].DataType != TypeDouble {
		t.Fatalf("values: %q %q", vals[0].Value, vals[1].Value)
	}
	if dt := req.Attributes[1].Attributes[0].Values[0].DataType; dt != TypeDayTimeDuration {
		t.Fatalf("legacy data type not canonical: %s", dt)
	}
	inc := req.IncludedAttributes()
	if len(inc) != 1 || len(inc[0].Attributes) != 1 || inc[0].Attributes[0].AttributeID != "subject-id" {
		t.Fatalf("included: %+v", inc)
	}
}

func TestRequestRejections(t *testing.T) {
	cases := map[string]struct {
		src   string
		class error
	}{
		"multi requests": {`<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="false" CombinedDecision="false">
  <MultiRequests><RequestReference><AttributesReference ReferenceId="a"/></RequestReference></MultiRequests></Request>`, ErrUnsupported},
		"content": {`<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="false" CombinedDecision="false">
  <Attributes Category="c"><Content><record/></Content></Attributes></Request>`, ErrUnsupported},
		"xacml 2.0":     {`<Request xmlns="urn:oasis:names:tc:xacml:2.0:context:schema:os"/>`, ErrUnsupported},
		"not a request": {`<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"/>`, ErrSyntax},
		"bad flag":      {`<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="maybe" CombinedDecision="false"/>`, ErrSyntax},
		"no data type": {`<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="false" CombinedDecision="false">
  <Attributes Category="c"><Attribute AttributeId="a" IncludeInResult="false"><AttributeValue>x</AttributeValue></Attribute></Attributes></Request>`, ErrSyntax},
		"malformed": {`<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17">`, ErrSyntax},
	}
	for name, c := range cases {
		_, err := ParseRequestXML("r.xml", []byte(c.src))
		if !errors.Is(err, c.class) {
			t.Errorf("%s: got %v, want %v", name, err, c.class)
		} else if !strings.HasPrefix(err.Error(), "r.xml:") {
			t.Errorf("%s: error does not name the file: %v", name, err)
		}
	}
}

func TestResponseWriteAndParse(t *testing.T) {
	resp := &Response{Results: []*Result{{
		Decision: DecisionDeny,
		Status:   Status{Code: StatusOK},
		Obligations: []*Obligation{{ID: "o1", Assignments: []*AttributeAssignment{
			{AttributeID: "a", DataType: TypeString, Value: "  spaced <&> "},
			{AttributeID: "b", Category: CategoryAccessSubject, Issuer: "i", DataType: TypeDouble, Value: "27.50"},
		}}},
		Advice:             []*Advice{{ID: "adv"}},
		Attributes:         []*Attributes{{Category: CategoryAction, Attributes: []*Attribute{{AttributeID: "action-id", Issuer: "T", IncludeInResult: true, Values: []*AttributeValue{{DataType: TypeString, Value: "read"}}}}}},
		PolicyIdentifiers:  []PolicyIdentifier{{Kind: KindPolicy, ID: "p", Version: "1.0"}, {Kind: KindPolicySet, ID: "s", Version: "2.1"}},
		ReturnPolicyIDList: true,
	}, {
		Decision: DecisionIndeterminate,
		Status:   Status{Code: StatusProcessingError, SubCode: StatusMissingAttribute, Message: "no subject"},
	}}}
	var buf bytes.Buffer
	if err := resp.WriteXML(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.Contains(out, `<Response xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17">`) {
		t.Fatalf("no namespace:\n%s", out)
	}
	back, err := ParseResponseXML("resp.xml", buf.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(normalized(back), normalized(resp)) {
		t.Fatalf("response changed through XML:\n%s", out)
	}
}

// TestEchoedAttributesMatchConformance checks IncludedAttributes against
// the attributes every expected conformance response echoes.
func TestEchoedAttributesMatchConformance(t *testing.T) {
	type attr struct{ category, id, issuer, values string }
	flatten := func(groups []*Attributes) []attr {
		var out []attr
		for _, g := range groups {
			for _, a := range g.Attributes {
				var vals []string
				for _, v := range a.Values {
					vals = append(vals, v.DataType+"="+strings.TrimSpace(v.Value))
				}
				out = append(out, attr{g.Category, a.AttributeID, a.Issuer, strings.Join(vals, "|")})
			}
		}
		return out
	}
	for _, c := range conformanceCases(t) {
		if c.reject {
			continue
		}
		reqData, err := os.ReadFile(filepath.Join(c.dir, "Request.xml"))
		if err != nil {
			t.Fatal(err)
		}
		req, err := ParseRequestXML("Request.xml", reqData)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		respData, err := os.ReadFile(filepath.Join(c.dir, "Response.xml"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ParseResponseXML("Response.xml", respData)
		if err != nil || len(resp.Results) != 1 {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, want := flatten(req.IncludedAttributes()), flatten(resp.Results[0].Attributes)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: echoed %v, expected %v", c.name, got, want)
		}
	}
}
