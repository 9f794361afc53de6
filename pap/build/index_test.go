package build_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/xacml"
	"github.com/verdict-authz/verdict/xacml/compile"
)

func engineFor(t testing.TB, policies []xacml.Evaluable, opts ...compile.Option) (*pdp.Engine, *build.Compiled) {
	t.Helper()
	c, err := build.Compile(policies, policies[0], opts...)
	if err != nil {
		t.Fatal(err)
	}
	e := pdp.New()
	if err := e.Activate(context.Background(), c.EnginePolicy("synth", 1)); err != nil {
		t.Fatal(err)
	}
	return e, c
}

// TestTargetIndexEquivalence checks that the target index never changes a
// decision: the same requests against the same policies compiled with and
// without the index give identical results, for rule-level (one policy)
// and child-level (policy set) indexes, including requests that miss,
// hit several rules, or lack a required attribute.
func TestTargetIndexEquivalence(t *testing.T) {
	ctx := context.Background()
	for name, policies := range map[string][]xacml.Evaluable{"rbac": synthRBAC(t, 200), "abac": synthABAC(t, 200)} {
		t.Run(name, func(t *testing.T) {
			indexed, ci := engineFor(t, policies)
			plain, cp := engineFor(t, policies, compile.WithIndexThreshold(1<<30))
			if !hasModule(ci, "cands := ") {
				t.Fatal("the indexed build has no target index")
			}
			if hasModule(cp, "cands := ") {
				t.Fatal("the plain build has a target index")
			}
			effects := map[pdp.Effect]int{}
			for i := 0; i < 220; i += 7 {
				for _, role := range []int{i % 50, (i + 1) % 50} {
					for _, action := range []string{"read", "delete"} {
						req := synthRequest(i, role, i%7, action)
						if i%3 == 0 {
							// Without the required clearance: Indeterminate paths.
							req.Attributes = req.Attributes[:len(req.Attributes)-1]
						}
						a, err := indexed.Decide(ctx, req)
						if err != nil {
							t.Fatal(err)
						}
						b, err := plain.Decide(ctx, req)
						if err != nil {
							t.Fatal(err)
						}
						if a.Effect != b.Effect || a.Status.Code != b.Status.Code || a.Extended != b.Extended {
							t.Fatalf("request %d/%d/%s: indexed %s %s, plain %s %s", i, role, action, a.Effect, a.Status.Code, b.Effect, b.Status.Code)
						}
						effects[a.Effect]++
					}
				}
			}
			// The sample must exercise more than one outcome to mean anything.
			if len(effects) < 2 {
				t.Fatalf("requests only produced %v", effects)
			}
			t.Logf("%s outcomes: %v", name, fmt.Sprint(effects))
		})
	}
}

func hasModule(c *build.Compiled, text string) bool {
	for _, src := range c.Output.Modules {
		if strings.Contains(src, text) {
			return true
		}
	}
	return false
}
