package build_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/xacml"
)

// TestGeneratedRegoPassesEveryCheck activates compiled policies with every
// OPA compiler check on (recursion, types, unused imports, deprecated
// builtins), which the engine skips for compiled policies to activate them
// faster: the skip is only sound while the compiler's output passes them.
func TestGeneratedRegoPassesEveryCheck(t *testing.T) {
	files, err := filepath.Glob("../../xacml/compile/testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../../policies/authzen-todo/todo.xml")
	sets := map[string][]xacml.Evaluable{"rbac-40": synthRBAC(t, 40), "abac-200": synthABAC(t, 200)}
	for _, f := range files {
		e, err := xacml.ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sets[filepath.Base(f)] = []xacml.Evaluable{e}
	}
	if len(sets) < 5 {
		t.Fatalf("only %d policy sets to check", len(sets))
	}
	for name, policies := range sets {
		t.Run(name, func(t *testing.T) {
			c, err := build.Compile(policies, policies[0])
			if err != nil {
				t.Fatal(err)
			}
			p := c.EnginePolicy("checks", 1)
			// Not marked as compiled: the engine runs every check.
			p.AttributesComplete = false
			if err := pdp.New().Activate(context.Background(), p); err != nil {
				t.Fatalf("OPA refuses the generated Rego with every check on: %v", err)
			}
		})
	}
}
