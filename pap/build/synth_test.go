package build_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/xacml"
)

const (
	ns        = "urn:oasis:names:tc:xacml:3.0:core:schema:wd-17"
	fnEq      = "urn:oasis:names:tc:xacml:1.0:function:string-equal"
	fnIsIn    = "urn:oasis:names:tc:xacml:1.0:function:string-is-in"
	fnOne     = "urn:oasis:names:tc:xacml:1.0:function:string-one-and-only"
	fnIntGE   = "urn:oasis:names:tc:xacml:1.0:function:integer-greater-than-or-equal"
	fnIntOne  = "urn:oasis:names:tc:xacml:1.0:function:integer-one-and-only"
	tString   = "http://www.w3.org/2001/XMLSchema#string"
	tInteger  = "http://www.w3.org/2001/XMLSchema#integer"
	attrRes   = "urn:oasis:names:tc:xacml:1.0:resource:resource-id"
	attrType  = "resource-type"
	attrAct   = "urn:oasis:names:tc:xacml:1.0:action:action-id"
	attrRole  = "role"
	attrLevel = "clearance"
)

func designator(cat, id, typ string, must bool) string {
	return fmt.Sprintf(`<AttributeDesignator Category=%q AttributeId=%q DataType=%q MustBePresent="%t"/>`, cat, id, typ, must)
}

func match(fn, val, cat, id string) string {
	return fmt.Sprintf(`<Match MatchId=%q><AttributeValue DataType=%q>%s</AttributeValue>%s</Match>`, fn, tString, val, designator(cat, id, tString, false))
}

// synthRule is one RBAC/ABAC rule: resource i, read or write, a role, and a
// clearance level.
func synthRule(i int) string {
	return fmt.Sprintf(`<Rule RuleId="rule-%d" Effect="Permit"><Target>
<AnyOf><AllOf>%s</AllOf></AnyOf>
<AnyOf><AllOf>%s</AllOf><AllOf>%s</AllOf></AnyOf>
</Target><Condition><Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:and">
<Apply FunctionId=%q><AttributeValue DataType=%q>role-%d</AttributeValue>%s</Apply>
<Apply FunctionId=%q><Apply FunctionId=%q>%s</Apply><AttributeValue DataType=%q>%d</AttributeValue></Apply>
</Apply></Condition></Rule>`, i,
		match(fnEq, fmt.Sprintf("res-%d", i), xacml.CategoryResource, attrRes),
		match(fnEq, "read", xacml.CategoryAction, attrAct), match(fnEq, "write", xacml.CategoryAction, attrAct),
		fnIsIn, tString, i%50, designator(xacml.CategoryAccessSubject, attrRole, tString, false),
		fnIntGE, fnIntOne, designator(xacml.CategoryAccessSubject, attrLevel, tInteger, true), tInteger, i%5)
}

// synthPolicy is one policy of n rules; with a type, its target pins the
// resource type (so a PolicySet can index its children).
func synthPolicy(id string, first, n int, typ string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<Policy xmlns=%q PolicyId=%q Version="1.0" RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-overrides">`, ns, id)
	if typ != "" {
		fmt.Fprintf(&b, "<Target><AnyOf><AllOf>%s</AllOf></AnyOf></Target>", match(fnEq, typ, xacml.CategoryResource, attrType))
	} else {
		b.WriteString("<Target/>")
	}
	for i := first; i < first+n; i++ {
		b.WriteString(synthRule(i))
	}
	b.WriteString("</Policy>")
	return b.String()
}

// synthRBAC is one policy of n rules.
func synthRBAC(t testing.TB, n int) []xacml.Evaluable {
	t.Helper()
	e, err := xacml.ParseXML("rbac.xml", []byte(synthPolicy("rbac", 0, n, "")))
	if err != nil {
		t.Fatal(err)
	}
	return []xacml.Evaluable{e}
}

// synthABAC is a PolicySet of n/10 policies of 10 rules, each policy for
// one resource type, referenced by id.
func synthABAC(t testing.TB, n int) []xacml.Evaluable {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `<PolicySet xmlns=%q PolicySetId="abac" Version="1.0" PolicyCombiningAlgId="urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-unless-permit"><Target/>`, ns)
	var out []xacml.Evaluable
	for j := 0; j < n/10; j++ {
		fmt.Fprintf(&b, `<PolicyIdReference>p-%d</PolicyIdReference>`, j)
		e, err := xacml.ParseXML(fmt.Sprintf("p-%d.xml", j), []byte(synthPolicy(fmt.Sprintf("p-%d", j), j*10, 10, fmt.Sprintf("type-%d", j))))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	b.WriteString("</PolicySet>")
	root, err := xacml.ParseXML("abac.xml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return append([]xacml.Evaluable{root}, out...)
}

// synthRequest asks for resource i (of type i/10) with a role and level.
func synthRequest(i, role, level int, action string) *pdp.Request {
	s := func(v string) pdp.Value { return pdp.Value{Type: "string", Lexical: v} }
	r := &pdp.Request{}
	r.Add(xacml.CategoryResource, attrRes, s(fmt.Sprintf("res-%d", i)))
	r.Add(xacml.CategoryResource, attrType, s(fmt.Sprintf("type-%d", i/10)))
	r.Add(xacml.CategoryAction, attrAct, s(action))
	r.Add(xacml.CategoryAccessSubject, attrRole, s(fmt.Sprintf("role-%d", role)))
	r.Add(xacml.CategoryAccessSubject, attrLevel, pdp.Value{Type: "integer", Lexical: fmt.Sprint(level)})
	return r
}
