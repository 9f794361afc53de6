package build_test

import (
	"context"
	"testing"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/xacml"
)

// TestCompiledSemantics evaluates the compiler's golden policies through the
// engine, so that the golden Rego is also known to mean the right thing.
func TestCompiledSemantics(t *testing.T) {
	str := func(v string) pdp.Value { return pdp.Value{Type: "string", Lexical: v} }
	typed := func(typ, v string) pdp.Value { return pdp.Value{Type: typ, Lexical: v} }
	req := func(attrs map[[2]string][]pdp.Value) *pdp.Request {
		r := &pdp.Request{}
		for k, vs := range attrs {
			r.Add(k[0], k[1], vs...)
		}
		return r
	}
	subj := func(id string) [2]string { return [2]string{xacml.CategoryAccessSubject, id} }
	action := [2]string{xacml.CategoryAction, "action-id"}
	resource := [2]string{xacml.CategoryResource, "resource-id"}
	cases := []struct {
		file, name  string
		req         *pdp.Request
		want        pdp.Effect
		status      string
		obligations int
		advice      int
	}{
		{"records.yaml", "adult doctor in nurses group", req(map[[2]string][]pdp.Value{action: {str("read")}, subj("role"): {str("doctor")}, subj("age"): {typed("integer", "40")}, subj("fee"): {typed("double", "10.5")}, subj("group"): {str("nurses"), str("admins")}}), pdp.EffectPermit, pdp.StatusOK, 1, 0},
		{"records.yaml", "fee too high", req(map[[2]string][]pdp.Value{action: {str("read")}, subj("role"): {str("doctor")}, subj("age"): {typed("integer", "40")}, subj("fee"): {typed("double", "27.50")}, subj("group"): {str("nurses")}}), pdp.EffectNotApplicable, pdp.StatusOK, 0, 0},
		{"records.yaml", "minor", req(map[[2]string][]pdp.Value{action: {str("write")}, subj("age"): {typed("integer", "12")}}), pdp.EffectDeny, pdp.StatusOK, 0, 1},
		{"records.yaml", "age missing", req(map[[2]string][]pdp.Value{action: {str("write")}, subj("role"): {str("doctor")}}), pdp.EffectIndeterminate, pdp.StatusMissingAttribute, 0, 0},
		{"records.yaml", "other action", req(map[[2]string][]pdp.Value{action: {str("delete")}}), pdp.EffectNotApplicable, pdp.StatusOK, 0, 0},
		{"indexed.yaml", "indexed hit", req(map[[2]string][]pdp.Value{resource: {str("doc-7")}}), pdp.EffectPermit, pdp.StatusOK, 0, 0},
		{"indexed.yaml", "indexed miss falls to the default", req(map[[2]string][]pdp.Value{resource: {str("doc-99")}}), pdp.EffectDeny, pdp.StatusOK, 0, 0},
		{"set.yaml", "read, not blocked", req(map[[2]string][]pdp.Value{action: {str("read")}, subj("blocked"): {typed("boolean", "false")}}), pdp.EffectPermit, pdp.StatusOK, 0, 0},
		{"set.yaml", "read, blocked", req(map[[2]string][]pdp.Value{action: {str("read")}, subj("blocked"): {typed("boolean", "true")}}), pdp.EffectDeny, pdp.StatusOK, 0, 0},
		{"set.yaml", "two applicable policies", req(map[[2]string][]pdp.Value{action: {str("read"), str("write")}}), pdp.EffectIndeterminate, pdp.StatusProcessingError, 0, 0},
		{"set.yaml", "write by editor", req(map[[2]string][]pdp.Value{action: {str("write")}, subj("role"): {str("editor")}}), pdp.EffectPermit, pdp.StatusOK, 0, 0},
	}
	engines := map[string]*pdp.Engine{}
	for _, c := range cases {
		t.Run(c.file+"/"+c.name, func(t *testing.T) {
			e, ok := engines[c.file]
			if !ok {
				p, err := xacml.ParseFile("../../xacml/compile/testdata/" + c.file)
				if err != nil {
					t.Fatal(err)
				}
				e, _ = engineFor(t, []xacml.Evaluable{p})
				engines[c.file] = e
			}
			d, err := e.Decide(context.Background(), c.req)
			if err != nil {
				t.Fatal(err)
			}
			if d.Effect != c.want || d.Status.Code != c.status || len(d.Obligations) != c.obligations || len(d.Advice) != c.advice {
				t.Fatalf("got %s %s obligations=%v advice=%v; want %s %s %d %d", d.Effect, d.Status.Code, d.Obligations, d.Advice, c.want, c.status, c.obligations, c.advice)
			}
		})
	}
}
