package xacml

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// yamlDocExample extracts the first ```yaml block of YAML.md.
func yamlDocExample(t *testing.T) []byte {
	t.Helper()
	doc, err := os.ReadFile("YAML.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("YAML.md has no yaml example")
	}
	return []byte(block)
}

// TestYAMLDocExample keeps the documented example valid: it parses, it
// checks once its referenced policies exist, and it means what it says.
func TestYAMLDocExample(t *testing.T) {
	e, err := ParseYAML("YAML.md", yamlDocExample(t))
	if err != nil {
		t.Fatal(err)
	}
	ps := e.(*PolicySet)
	if ps.Version != "1.2" || ps.CombiningAlg != PolicyAlgFirstApplicable || len(ps.Children) != 3 {
		t.Fatalf("policy set header wrong: %+v", ps)
	}
	p := ps.Children[0].(*Policy)
	if p.CombiningAlg != RuleAlgDenyOverrides || len(p.Variables) != 1 || len(p.Rules) != 2 {
		t.Fatalf("policy wrong: %+v", p)
	}
	ref := ps.Children[2].(*Reference)
	if ref.Kind != KindPolicySet || ref.Version != "1.*" || ref.LatestVersion != "1.9" {
		t.Fatalf("reference wrong: %+v", ref)
	}
	audit := &Policy{ID: "urn:example:policy:audit", Version: "1.0", CombiningAlg: RuleAlgFirstApplicable}
	legacy := &PolicySet{ID: "urn:example:policyset:legacy", Version: "1.5", CombiningAlg: PolicyAlgDenyOverrides}
	set, err := NewSet([]Evaluable{e, audit, legacy})
	if err != nil {
		t.Fatal(err)
	}
	checked, err := Check(set, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	var values []string
	var ageType Type
	walkExprs(e, func(x Expr) {
		switch x := x.(type) {
		case *AttributeValue:
			values = append(values, ShortTypeName(x.DataType)+":"+x.Value)
		case *AttributeDesignator:
			if x.AttributeID == "age" {
				ageType = checked.Types[x]
			}
		}
	})
	for _, want := range []string{"string:http://medico.com/record/", "integer:18", "double:27.50", "string:   spaced  text  ", "anyURI:mailto:records@medico.com"} {
		if !strings.Contains(strings.Join(values, "\n"), want) {
			t.Errorf("value %s missing from %q", want, values)
		}
	}
	if !sameType(ageType, Type{DataType: TypeInteger, Bag: true}) {
		t.Errorf("age designator type %v, want bag of integer", ageType)
	}
	if got := p.Rules[0].Obligations[0].Assignments[1].Category; got != CategoryAccessSubject {
		t.Errorf("assignment category %q", got)
	}
}

// TestYAMLSameModelAsXML writes one policy in both syntaxes by hand.
func TestYAMLSameModelAsXML(t *testing.T) {
	xmlSrc := `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="p" Version="1.0"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:first-applicable">
  <Target><AnyOf><AllOf>
    <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:rfc822Name-match">
      <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">medico.com</AttributeValue>
      <AttributeDesignator Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" AttributeId="mail"
        DataType="urn:oasis:names:tc:xacml:1.0:data-type:rfc822Name" MustBePresent="false"/>
    </Match>
    <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:date-less-than">
      <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#date">2002-03-22</AttributeValue>
      <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:environment" AttributeId="today"
        DataType="http://www.w3.org/2001/XMLSchema#date" MustBePresent="true" Issuer="clock"/>
    </Match>
  </AllOf></AnyOf></Target>
  <VariableDefinition VariableId="n">
    <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-bag-size">
      <AttributeDesignator Category="urn:example:cat" AttributeId="g" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
    </Apply>
  </VariableDefinition>
  <Rule RuleId="r" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:integer-equal">
        <Description>count</Description>
        <VariableReference VariableId="n"/>
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#integer">2</AttributeValue>
      </Apply>
    </Condition>
  </Rule>
</Policy>`
	yamlSrc := `policy: p
combining: first-applicable
target:
  - all_of:
      - match: rfc822Name-match
        value: medico.com
        attr: {category: subject, id: mail}
      - match: date-less-than
        value: 2002-03-22
        attr: {category: environment, id: today, must_be_present: true, issuer: clock}
variables:
  n: {string-bag-size: {attr: {category: "urn:example:cat", id: g}}}
rules:
  - id: r
    effect: permit
    condition:
      apply: integer-equal
      description: count
      args: [{var: n}, 2]
`
	fromXML, err := ParseXML("p.xml", []byte(xmlSrc))
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := ParseYAML("p.yaml", []byte(yamlSrc))
	if err != nil {
		t.Fatal(err)
	}
	if !sameModel(fromXML, fromYAML) {
		var a, b bytes.Buffer
		WriteYAML(&a, fromXML)
		WriteYAML(&b, fromYAML)
		t.Fatalf("models differ:\nfrom XML:\n%s\nfrom YAML:\n%s", a.String(), b.String())
	}
}

func TestYAMLRejections(t *testing.T) {
	cases := map[string]struct {
		src   string
		class error
		line  string
	}{
		"alias":          {"policy: p\ncombining: deny-overrides\nrules:\n  - &r {id: r, effect: Permit}\n  - *r\n", ErrUnsupported, "p.yaml:5:"},
		"null value":     {"policy: p\ncombining: deny-overrides\nrules:\n  - id: r\n    effect: Permit\n    condition: {string-equal: [~, a]}\n", ErrSyntax, "p.yaml:6:"},
		"untyped date":   {"policy: p\ncombining: deny-overrides\nvariables:\n  d: 2002-03-22\n", ErrSyntax, "p.yaml:4:"},
		"two documents":  {"policy: p\ncombining: deny-overrides\n---\npolicy: q\n", ErrSyntax, "p.yaml:"},
		"empty":          {"", ErrSyntax, "p.yaml:1:"},
		"not a policy":   {"rules: []\n", ErrSyntax, "p.yaml:1:"},
		"list as expr":   {"policy: p\ncombining: deny-overrides\nvariables:\n  v: [1, 2]\n", ErrSyntax, "p.yaml:4:"},
		"duplicate key":  {"policy: p\ncombining: deny-overrides\ncombining: first-applicable\n", ErrSyntax, "p.yaml:3:"},
		"missing effect": {"policy: p\ncombining: deny-overrides\nrules:\n  - id: r\n", ErrSyntax, "p.yaml:4:"},
		"bad bool":       {"policy: p\ncombining: deny-overrides\nvariables:\n  v: {attr: {category: subject, id: x, must_be_present: yes}}\n", ErrSyntax, "p.yaml:4:"},
		"ambiguous expr": {"policy: p\ncombining: deny-overrides\nvariables:\n  v: {and: [], or: []}\n", ErrSyntax, "p.yaml:4:"},
	}
	for name, c := range cases {
		_, err := ParseYAML("p.yaml", []byte(c.src))
		if !errors.Is(err, c.class) {
			t.Errorf("%s: got %v, want %v", name, err, c.class)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.line) {
			t.Errorf("%s: %q does not start with %q", name, err.Error(), c.line)
		}
	}
}

func TestResolveName(t *testing.T) {
	reg := StandardFunctions()
	cases := map[string]string{
		"string-equal":                 f1 + "string-equal",
		"any-of":                       f3 + "any-of",
		"map":                          f3 + "map",
		"dayTimeDuration-equal":        f3 + "dayTimeDuration-equal",
		"dateTime-add-dayTimeDuration": f3 + "dateTime-add-dayTimeDuration",
		"string-concatenate":           "urn:oasis:names:tc:xacml:2.0:function:string-concatenate",
		"uri-string-concatenate":       "urn:oasis:names:tc:xacml:2.0:function:uri-string-concatenate",
		f1 + "any-of":                  f1 + "any-of",
	}
	for name, want := range cases {
		f, ok := reg.ResolveName(name)
		if !ok || f.ID != want {
			t.Errorf("ResolveName(%q) = %v, want %s", name, f, want)
		}
	}
	if _, ok := reg.ResolveName("frobnicate"); ok {
		t.Error("unknown name resolved")
	}
	if got := reg.functionName(f1 + "any-of"); got != f1+"any-of" {
		t.Errorf("legacy any-of must keep its full id, got %s", got)
	}
}

// TestYAMLLiteralNames covers identifiers that look like short names: a
// category literally named "subject" must not become the access-subject
// category on conversion.
func TestYAMLLiteralNames(t *testing.T) {
	src := `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="p" Version="1.0" RuleCombiningAlgId="deny-overrides">
  <Rule RuleId="r" Effect="Permit">
    <Condition>
      <Apply FunctionId="string-equal">
        <AttributeDesignator Category="subject" AttributeId="a" DataType="string" MustBePresent="false"/>
        <AttributeValue DataType="string">x</AttributeValue>
      </Apply>
    </Condition>
  </Rule>
</Policy>`
	fromXML, err := ParseXML("p.xml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var y bytes.Buffer
	if err := WriteYAML(&y, fromXML); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(y.String(), "category: !literal subject") {
		t.Errorf("literal category not marked:\n%s", y.String())
	}
	fromYAML, err := ParseYAML("p.yaml", y.Bytes())
	if err != nil {
		t.Fatalf("%v\n%s", err, y.String())
	}
	if !sameModel(fromXML, fromYAML) {
		t.Fatalf("literal names changed through YAML:\n%s", y.String())
	}
}
