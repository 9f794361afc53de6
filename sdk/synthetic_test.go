package sdk_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pdp"
)

// Synthetic RBAC policies for scaling benchmarks: rule i permits action
// act-(i%5) on resource res-i to holders of role role-(i%50), so every rule
// has its own resource and the policy grows without changing shape.
const (
	rbacActions = 5
	rbacRoles   = 50
)

func rbacYAML(rules int) string {
	var b strings.Builder
	b.WriteString("policy: urn:verdict:bench:rbac\ncombining: deny-unless-permit\nrules:\n")
	for i := range rules {
		fmt.Fprintf(&b, `  - id: r%d
    effect: Permit
    target:
      - {match: string-equal, value: res-%d, attr: {category: resource, id: id}}
      - {match: string-equal, value: act-%d, attr: {category: action, id: name}}
      - {match: string-equal, value: role-%d, attr: {category: subject, id: roles}}
`, i, i, i%rbacActions, i%rbacRoles)
	}
	return b.String()
}

// rbacRego is the same policy hand-written for OPA, as an OPA user would.
func rbacRego(rules int) string {
	var b strings.Builder
	b.WriteString("package rbac\n\nimport rego.v1\n\ndefault allow := false\n\n")
	for i := range rules {
		fmt.Fprintf(&b, "allow if {\n\tinput.resource.id == \"res-%d\"\n\tinput.action.name == \"act-%d\"\n\t\"role-%d\" in input.subject.roles\n}\n\n", i, i%rbacActions, i%rbacRoles)
	}
	return b.String()
}

// rbacRequest asks for rule i's resource (permitted when grant is true,
// otherwise with a role the rule does not name).
func rbacRequest(i int, grant bool) (*pdp.Request, map[string]any) {
	role := fmt.Sprintf("role-%d", i%rbacRoles)
	if !grant {
		role = fmt.Sprintf("role-%d", (i+1)%rbacRoles)
	}
	res, act := fmt.Sprintf("res-%d", i), fmt.Sprintf("act-%d", i%rbacActions)
	req := &pdp.Request{}
	req.Add(pdp.CategorySubject, "id", str("u1"))
	req.Add(pdp.CategorySubject, "roles", str(role), str("role-x"))
	req.Add(pdp.CategoryAction, "name", str(act))
	req.Add(pdp.CategoryResource, "id", str(res))
	in := map[string]any{
		"subject":  map[string]any{"id": "u1", "roles": []any{role, "role-x"}},
		"action":   map[string]any{"name": act},
		"resource": map[string]any{"id": res},
	}
	return req, in
}

func TestSyntheticPolicies(t *testing.T) {
	const n = 200
	p := compileYAML(t, rbacYAML(n), "rbac", 1)
	e := pdp.New(pdp.WithLogger(quiet))
	if err := e.Activate(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, n / 2, n - 1} {
		for _, grant := range []bool{true, false} {
			req, _ := rbacRequest(i, grant)
			d, err := e.Decide(t.Context(), req)
			if err != nil || (d.Effect == pdp.EffectPermit) != grant {
				t.Errorf("rule %d grant=%t: %s, %v", i, grant, d.Effect, err)
			}
		}
	}
}
