package xacml

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// Helpers that keep the policies of the tables short.
const (
	f1 = "urn:oasis:names:tc:xacml:1.0:function:"
	f3 = "urn:oasis:names:tc:xacml:3.0:function:"
)

func pol(inner string) string {
	return `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="p" Version="1.0"
  RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
  <Target/>
` + inner + `
</Policy>`
}

// polTarget is a policy whose target is the given single match.
func polTarget(match string) string {
	return strings.Replace(pol(""), "<Target/>", `<Target><AnyOf><AllOf>`+match+`</AllOf></AnyOf></Target>`, 1)
}

func cond(expr string) string {
	return pol(`<Rule RuleId="r" Effect="Permit"><Condition>` + expr + `</Condition></Rule>`)
}

func apply(fn string, args ...string) string {
	return `<Apply FunctionId="` + fn + `">` + strings.Join(args, "") + `</Apply>`
}

func av(shortType, v string) string {
	dt, _ := DataTypeByShort(shortType)
	return `<AttributeValue DataType="` + dt + `">` + v + `</AttributeValue>`
}

func ad(shortType string) string {
	dt, _ := DataTypeByShort(shortType)
	return `<AttributeDesignator Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" AttributeId="x" DataType="` + dt + `" MustBePresent="false"/>`
}

func fn(id string) string { return `<Function FunctionId="` + id + `"/>` }

func policySet(id, inner string) string {
	return `<PolicySet xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicySetId="` + id + `" Version="1.0"
  PolicyCombiningAlgId="urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-overrides">
  <Target/>
` + inner + `
</PolicySet>`
}

// source is one file of a test: its name picks the syntax.
type source struct{ name, text string }

// loadSources parses, indexes and checks sources as the CLI does, the
// first being the root.
func loadSources(sources ...source) (*Checked, error) {
	var all []Evaluable
	for _, s := range sources {
		var e Evaluable
		var err error
		if strings.HasSuffix(s.name, ".xml") {
			e, err = ParseXML(s.name, []byte(s.text))
		} else {
			e, err = ParseYAML(s.name, []byte(s.text))
		}
		if err != nil {
			return nil, err
		}
		all = append(all, e)
	}
	set, err := NewSet(all)
	if err != nil {
		return nil, err
	}
	return Check(set, all[0], StandardFunctions())
}

func TestRejections(t *testing.T) {
	one := func(text string) []source { return []source{{"a.xml", text}} }
	cases := []struct {
		name    string
		sources []source
		class   error
		element string
	}{
		{"malformed XML", one(pol(`<Rule RuleId="r" Effect="Permit">`)), ErrSyntax, "Rule"},
		{"unknown element", one(pol(`<Rules/>`)), ErrSyntax, "Rules"},
		{"unknown attribute", one(pol(`<Rule RuleId="r" Effect="Permit" Priority="1"/>`)), ErrSyntax, "Rule"},
		{"XACML 2.0 document", one(`<Policy xmlns="urn:oasis:names:tc:xacml:2.0:policy:schema:os" PolicyId="p"/>`), ErrUnsupported, "Policy"},
		{"root is not a policy", one(`<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"/>`), ErrSyntax, "Request"},
		{"unknown function", one(cond(apply(f1+"string-frobnicate", av("string", "a")))), ErrUnknownFunction, "Apply"},
		{"unknown match function", one(polTarget(`<Match MatchId="` + f1 + `nope">` + av("string", "a") + ad("string") + `</Match>`)), ErrUnknownFunction, "Match"},
		{"unknown function passed to higher-order", one(cond(apply(f3+"any-of", fn(f1+"nope"), av("string", "a"), ad("string")))), ErrUnknownFunction, "Function"},
		{"unknown data type in value", one(cond(`<AttributeValue DataType="urn:example:color">red</AttributeValue>`)), ErrUnknownDataType, "AttributeValue"},
		{"unknown data type in designator", one(cond(apply(f1+"string-one-and-only", `<AttributeDesignator Category="c" AttributeId="x" DataType="urn:example:color" MustBePresent="false"/>`))), ErrUnknownDataType, "AttributeDesignator"},
		{"invalid integer", one(cond(apply(f1+"integer-equal", av("integer", "12a"), av("integer", "1")))), ErrInvalidValue, "AttributeValue"},
		{"invalid boolean", one(cond(av("boolean", "yes"))), ErrInvalidValue, "AttributeValue"},
		{"invalid date", one(cond(apply(f1+"date-equal", av("date", "2002-02-30"), av("date", "2002-02-28")))), ErrInvalidValue, "AttributeValue"},
		{"invalid ipAddress", one(cond(apply("urn:oasis:names:tc:xacml:2.0:function:ipAddress-bag-size", apply("urn:oasis:names:tc:xacml:2.0:function:ipAddress-bag", av("ipAddress", "300.1.1.1"))))), ErrInvalidValue, "AttributeValue"},
		{"wrong argument count", one(cond(apply(f1+"string-equal", av("string", "a")))), ErrType, "Apply"},
		{"variadic minimum", one(cond(apply(f1+"string-equal", apply("urn:oasis:names:tc:xacml:2.0:function:string-concatenate", av("string", "a")), av("string", "a")))), ErrType, "Apply"},
		{"bag where a value is expected", one(cond(apply(f1+"string-equal", ad("string"), av("string", "a")))), ErrType, "AttributeDesignator"},
		{"wrong argument type", one(cond(apply(f1+"string-equal", av("integer", "1"), av("string", "a")))), ErrType, "AttributeValue"},
		{"condition not boolean", one(cond(apply(f1+"integer-add", av("integer", "1"), av("integer", "2")))), ErrType, "Apply"},
		{"condition is a bag", one(cond(ad("boolean"))), ErrType, "AttributeDesignator"},
		{"match function not boolean", one(polTarget(`<Match MatchId="` + f1 + `integer-add">` + av("integer", "1") + ad("integer") + `</Match>`)), ErrType, "Match"},
		{"match value type", one(polTarget(`<Match MatchId="` + f1 + `string-equal">` + av("integer", "1") + ad("string") + `</Match>`)), ErrType, "AttributeValue"},
		{"match designator type", one(polTarget(`<Match MatchId="` + f1 + `string-equal">` + av("string", "a") + ad("integer") + `</Match>`)), ErrType, "AttributeDesignator"},
		{"any-of with two bags", one(cond(apply(f3+"any-of", fn(f1+"string-equal"), ad("string"), ad("string")))), ErrType, "Apply"},
		{"any-of without a bag", one(cond(apply(f3+"any-of", fn(f1+"string-equal"), av("string", "a"), av("string", "b")))), ErrType, "Apply"},
		{"higher-order without Function", one(cond(apply(f3+"any-of", av("string", "a"), ad("string")))), ErrType, "AttributeValue"},
		{"all-of-any with three bags", one(cond(apply(f3+"all-of-any", fn(f1+"string-equal"), ad("string"), ad("string"), ad("string")))), ErrType, "Apply"},
		{"all-of-all with a value", one(cond(apply(f3+"all-of-all", fn(f1+"string-equal"), av("string", "a"), ad("string")))), ErrType, "Apply"},
		{"legacy any-of with four arguments", one(cond(apply(f1+"any-of", fn(f1+"and"), av("boolean", "true"), av("boolean", "true"), ad("boolean")))), ErrType, "Apply"},
		{"legacy any-of with the bag first", one(cond(apply(f1+"any-of", fn(f1+"string-equal"), ad("string"), av("string", "a")))), ErrType, "Apply"},
		{"legacy map with two arguments", one(cond(apply(f1+"string-bag-size", apply(f1+"map", fn(f1+"string-normalize-space"), av("string", "a"), ad("string"))))), ErrType, "Apply"},
		{"higher-order function passed", one(cond(apply(f3+"any-of", fn(f3+"any-of"), av("string", "a"), ad("string")))), ErrType, "Function"},
		{"function parameter types", one(cond(apply(f3+"any-of", fn(f1+"integer-equal"), av("string", "a"), ad("string")))), ErrType, "AttributeValue"},
		{"function not boolean", one(cond(apply(f3+"any-of", fn(f1+"integer-add"), av("integer", "1"), ad("integer")))), ErrType, "Function"},
		{"function arity", one(cond(apply(f3+"any-of", fn(f1+"not"), av("boolean", "true"), ad("boolean")))), ErrType, "Function"},
		{"Function outside higher-order", one(cond(apply(f1+"and", fn(f1+"and")))), ErrType, "Function"},
		{"undefined variable", one(cond(`<VariableReference VariableId="v"/>`)), ErrVariable, "VariableReference"},
		{"circular variables", one(pol(`<VariableDefinition VariableId="a"><VariableReference VariableId="b"/></VariableDefinition>
  <VariableDefinition VariableId="b">` + apply(f1+"not", `<VariableReference VariableId="a"/>`) + `</VariableDefinition>
  <Rule RuleId="r" Effect="Permit"><Condition><VariableReference VariableId="a"/></Condition></Rule>`)), ErrCircularVariable, "VariableReference"},
		{"duplicate VariableId", one(pol(`<VariableDefinition VariableId="a">` + av("boolean", "true") + `</VariableDefinition>
  <VariableDefinition VariableId="a">` + av("boolean", "false") + `</VariableDefinition>`)), ErrDuplicateID, "VariableDefinition"},
		{"duplicate RuleId", one(pol(`<Rule RuleId="r" Effect="Permit"/><Rule RuleId="r" Effect="Deny"/>`)), ErrDuplicateID, "Rule"},
		{"duplicate PolicyId", []source{{"a.xml", pol("")}, {"b.xml", pol("")}}, ErrDuplicateID, "Policy"},
		{"duplicate inline PolicyId", one(policySet("s", pol("")+pol(""))), ErrDuplicateID, "Policy"},
		{"unresolvable reference", one(policySet("s", `<PolicyIdReference>missing</PolicyIdReference>`)), ErrReference, "PolicyIdReference"},
		{"reference of the wrong kind", []source{{"a.xml", policySet("s", `<PolicySetIdReference>p</PolicySetIdReference>`)}, {"b.xml", pol("")}}, ErrReference, "PolicySetIdReference"},
		{"reference version not loaded", []source{{"a.xml", policySet("s", `<PolicyIdReference Version="2.*">p</PolicyIdReference>`)}, {"b.xml", pol("")}}, ErrReference, "PolicyIdReference"},
		{"circular reference", []source{
			{"a.xml", policySet("s1", `<PolicySetIdReference>s2</PolicySetIdReference>`)},
			{"b.xml", policySet("s2", `<PolicySetIdReference>s1</PolicySetIdReference>`)},
		}, ErrCircularReference, "PolicySetIdReference"},
		{"self reference", one(policySet("s1", policySet("inner", `<PolicySetIdReference>s1</PolicySetIdReference>`))), ErrCircularReference, "PolicySetIdReference"},
		{"unknown combining algorithm", one(strings.Replace(pol(""), "rule-combining-algorithm:deny-overrides", "rule-combining-algorithm:majority-vote", 1)), ErrUnknownAlgorithm, "Policy"},
		{"policy algorithm on rules", one(strings.Replace(pol(""), "3.0:rule-combining-algorithm:deny-overrides", "1.0:policy-combining-algorithm:only-one-applicable", 1)), ErrUnknownAlgorithm, "Policy"},
		{"AttributeSelector", one(cond(apply(f1+"string-equal", apply(f1+"string-one-and-only", `<AttributeSelector Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource" Path="//a" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>`), av("string", "a")))), ErrUnsupported, "AttributeSelector"},
		{"xpathExpression", one(cond(`<AttributeValue DataType="urn:oasis:names:tc:xacml:3.0:data-type:xpathExpression" XPathCategory="c">//a</AttributeValue>`)), ErrUnsupported, "AttributeValue"},
		{"obligation without id", one(pol(`<Rule RuleId="r" Effect="Permit"><ObligationExpressions><ObligationExpression FulfillOn="Permit"/></ObligationExpressions></Rule>`)), ErrSyntax, "ObligationExpression"},
		{"advice without id", one(pol(`<Rule RuleId="r" Effect="Permit"><AdviceExpressions><AdviceExpression AppliesTo="Permit"/></AdviceExpressions></Rule>`)), ErrSyntax, "AdviceExpression"},
		{"obligation FulfillOn", one(pol(`<ObligationExpressions><ObligationExpression ObligationId="o" FulfillOn="Always"/></ObligationExpressions>`)), ErrSyntax, "ObligationExpression"},
		{"bad Effect", one(pol(`<Rule RuleId="r" Effect="Allow"/>`)), ErrSyntax, "Rule"},
		{"condition with two expressions", one(cond(av("boolean", "true") + av("boolean", "false"))), ErrSyntax, "Condition"},
		{"empty condition", one(cond("")), ErrSyntax, "Condition"},
		{"bad version", one(strings.Replace(pol(""), `Version="1.0"`, `Version="1.x"`, 1)), ErrSyntax, "Policy"},
		{"designator without AttributeId", one(polTarget(`<Match MatchId="` + f1 + `string-equal">` + av("string", "a") + strings.Replace(ad("string"), ` AttributeId="x"`, "", 1) + `</Match>`)), ErrSyntax, "AttributeDesignator"},
		{"missing PolicyId", one(strings.Replace(pol(""), `PolicyId="p"`, ``, 1)), ErrSyntax, "Policy"},
		{"YAML unknown function", []source{{"a.yaml", "policy: p\ncombining: deny-overrides\nrules:\n  - id: r\n    effect: Permit\n    condition: {string-frobnicate: [a]}\n"}}, ErrUnknownFunction, "Apply"},
		{"YAML type error", []source{{"a.yaml", "policy: p\ncombining: deny-overrides\nrules:\n  - id: r\n    effect: Permit\n    condition: {integer-add: [1, 2]}\n"}}, ErrType, "Apply"},
		{"YAML unknown key", []source{{"a.yaml", "policy: p\ncombining: deny-overrides\nrulez: []\n"}}, ErrSyntax, "Policy"},
		{"YAML malformed", []source{{"a.yaml", "policy: p\ncombining: [deny\n"}}, ErrSyntax, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadSources(c.sources...)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, c.class) {
				t.Fatalf("error is not %v: %v", c.class, err)
			}
			first := strings.SplitN(err.Error(), "\n", 2)[0]
			if first != SplitErrors(err)[0].Error() {
				t.Errorf("first line %q is not the first error %q", first, SplitErrors(err)[0])
			}
			var files []string
			for _, s := range c.sources {
				files = append(files, s.name+":")
			}
			named := false
			for _, f := range files {
				named = named || strings.HasPrefix(first, f)
			}
			if !named {
				t.Errorf("error does not start with a file name: %q", first)
			}
			if c.element != "" && !strings.Contains(first, "<"+c.element+">") {
				t.Errorf("error does not name <%s>: %q", c.element, first)
			}
			var xe *Error
			if !errors.As(SplitErrors(err)[0], &xe) || xe.Pos.Line == 0 {
				t.Errorf("error has no line: %q", first)
			}
		})
	}
}

// TestAcceptsValidForms guards against over-strict checking: every form the
// specification allows must pass, and the types recorded must be right.
func TestAcceptsValidForms(t *testing.T) {
	cases := []struct {
		name string
		expr string
		want Type
	}{
		{"any-of value then bag", apply(f3+"any-of", fn(f1+"string-equal"), av("string", "a"), ad("string")), Type{DataType: TypeBoolean}},
		{"any-of bag then value", apply(f3+"any-of", fn(f1+"string-equal"), ad("string"), av("string", "a")), Type{DataType: TypeBoolean}},
		{"any-of n-ary", apply(f3+"any-of", fn(f1+"and"), av("boolean", "true"), av("boolean", "1"), ad("boolean")), Type{DataType: TypeBoolean}},
		{"any-of-any mixed", apply(f3+"any-of-any", fn(f1+"string-equal"), av("string", "a"), ad("string")), Type{DataType: TypeBoolean}},
		{"all-of-all", apply(f1+"all-of-all", fn(f1+"integer-greater-than"), ad("integer"), ad("integer")), Type{DataType: TypeBoolean}},
		{"legacy any-of", apply(f1+"any-of", fn(f1+"string-equal"), av("string", "a"), ad("string")), Type{DataType: TypeBoolean}},
		{"rfc822Name-match as function", apply(f3+"any-of", fn(f1+"rfc822Name-match"), av("string", "example.com"), ad("rfc822Name")), Type{DataType: TypeBoolean}},
		{"and with no arguments", apply(f1 + "and"), Type{DataType: TypeBoolean}},
		{"legacy duration type", apply(f3+"dayTimeDuration-equal", `<AttributeValue DataType="http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration">P1D</AttributeValue>`, av("dayTimeDuration", "PT24H")), Type{DataType: TypeBoolean}},
		{"n-of", apply(f1+"n-of", av("integer", "1"), av("boolean", "true"), av("boolean", "false")), Type{DataType: TypeBoolean}},
		{"map with arguments after the bag", apply(f1+"string-set-equals", apply(f1+"string-bag", av("string", "H")),
			apply(f3+"map", fn(f3+"string-substring"), ad("string"), av("integer", "0"), av("integer", "1"))), Type{DataType: TypeBoolean}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checked, err := loadSources(source{"ok.xml", cond(c.expr)})
			if err != nil {
				t.Fatal(err)
			}
			root := checked.Root.(*Policy)
			if got := checked.Types[root.Rules[0].Condition]; !sameType(got, c.want) {
				t.Fatalf("type %v, want %v", got, c.want)
			}
		})
	}
	t.Run("map result is a bag", func(t *testing.T) {
		expr := apply(f1+"string-bag-size", apply(f3+"map", fn(f1+"string-normalize-to-lower-case"), ad("string")))
		checked, err := loadSources(source{"ok.xml", cond(apply(f1+"integer-equal", expr, av("integer", "1")))})
		if err != nil {
			t.Fatal(err)
		}
		var mapType Type
		walkExprs(checked.Root, func(e Expr) {
			if a, ok := e.(*Apply); ok && a.FunctionID == f3+"map" {
				mapType = checked.Types[a]
			}
		})
		if !sameType(mapType, Type{DataType: TypeString, Bag: true}) {
			t.Fatalf("map type %v", mapType)
		}
	})
	t.Run("variables and references are recorded", func(t *testing.T) {
		checked, err := loadSources(
			source{"root.xml", policySet("s", `<PolicyIdReference>p</PolicyIdReference>`)},
			source{"p.xml", pol(`<VariableDefinition VariableId="v">` + apply(f1+"string-one-and-only", ad("string")) + `</VariableDefinition>
  <Rule RuleId="r" Effect="Permit"><Condition>` + apply(f1+"string-equal", `<VariableReference VariableId="v"/>`, av("string", "a")) + `</Condition></Rule>`)},
		)
		if err != nil {
			t.Fatal(err)
		}
		if len(checked.Refs) != 1 || len(checked.Vars) != 1 {
			t.Fatalf("refs %d vars %d", len(checked.Refs), len(checked.Vars))
		}
		for r := range checked.Vars {
			if !sameType(checked.Types[r], Type{DataType: TypeString}) {
				t.Fatalf("variable reference type %v", checked.Types[r])
			}
		}
	})
}

// TestErrorFormat pins the one-line message format the CLI prints.
func TestErrorFormat(t *testing.T) {
	file := filepath.Join("policies", "a.xml")
	_, err := loadSources(source{file, cond(apply(f1 + "foo"))})
	want := fmt.Sprintf("%s:4: <Apply>: unknown function %q", file, f1+"foo")
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}
