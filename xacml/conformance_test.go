package xacml

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/integration/conformance"
)

// conformanceCase is one folder of the XACML conformance suite.
type conformanceCase struct {
	name string
	dir  string
	// root is Policy.xml (or Policies/Policy.xml when the case keeps all
	// its policies under Policies/); others are the referenced policies.
	root   string
	others []string
	// reject is true when the request and response exist only as *.ignore:
	// the policy must be refused at load time.
	reject bool
}

func conformanceCases(t testing.TB) []conformanceCase {
	t.Helper()
	base := filepath.Join(conformance.Dir(t), "xacml3")
	entries, err := os.ReadDir(base)
	if err != nil {
		t.Fatal(err)
	}
	var cases []conformanceCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(base, e.Name())
		c := conformanceCase{name: e.Name(), dir: dir}
		if _, err := os.Stat(filepath.Join(dir, "Request.xml")); err != nil {
			if _, err := os.Stat(filepath.Join(dir, "Request.xml.ignore")); err != nil {
				continue
			}
			c.reject = true
		}
		refs, _ := filepath.Glob(filepath.Join(dir, "Policies", "*.xml"))
		sort.Strings(refs)
		c.root = filepath.Join(dir, "Policy.xml")
		if _, err := os.Stat(c.root); err != nil {
			c.root = filepath.Join(dir, "Policies", "Policy.xml")
		}
		for _, r := range refs {
			if r != c.root {
				c.others = append(c.others, r)
			}
		}
		cases = append(cases, c)
	}
	if len(cases) < 100 {
		t.Fatalf("found only %d conformance cases under %s", len(cases), base)
	}
	return cases
}

// loadCase parses and checks a case the way `verdict xacml eval` does:
// the root first, the others only for references.
func loadCase(c conformanceCase) (*Checked, error) {
	root, err := ParseFile(c.root)
	if err != nil {
		return nil, err
	}
	all := []Evaluable{root}
	for _, o := range c.others {
		e, err := ParseFile(o)
		if err != nil {
			return nil, err
		}
		all = append(all, e)
	}
	set, err := NewSet(all)
	if err != nil {
		return nil, err
	}
	return Check(set, root, StandardFunctions())
}

func TestConformanceLoad(t *testing.T) {
	for _, c := range conformanceCases(t) {
		t.Run(c.name, func(t *testing.T) {
			checked, err := loadCase(c)
			if c.reject {
				if err == nil {
					t.Fatal("policy with a static error was accepted")
				}
				special, _ := os.ReadFile(filepath.Join(c.dir, "Special.txt"))
				if strings.Contains(string(special), "static type error") && !errors.Is(err, ErrType) {
					t.Fatalf("want a static type error, got %v", err)
				}
				if !strings.HasPrefix(err.Error(), c.root+":") {
					t.Fatalf("error does not name the file: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			assertAllTyped(t, checked)
			data, err := os.ReadFile(filepath.Join(c.dir, "Request.xml"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseRequestXML(filepath.Join(c.dir, "Request.xml"), data); err != nil {
				t.Fatalf("request: %v", err)
			}
			data, err = os.ReadFile(filepath.Join(c.dir, "Response.xml"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseResponseXML(filepath.Join(c.dir, "Response.xml"), data); err != nil {
				t.Fatalf("response: %v", err)
			}
		})
	}
}

// assertAllTyped verifies that Check recorded a type for every expression
// reachable from the checked policies, as the compiler relies on it.
func assertAllTyped(t *testing.T, c *Checked) {
	t.Helper()
	var missing []string
	walkExprs(c.Root, func(e Expr) {
		if _, ok := c.Types[e]; !ok {
			missing = append(missing, posPrefix(e.Position())+" <"+e.Position().Element+">")
		}
	})
	for _, p := range c.Set.Policies() {
		walkExprs(p, func(e Expr) {
			if _, ok := c.Types[e]; !ok {
				missing = append(missing, posPrefix(e.Position())+" <"+e.Position().Element+">")
			}
		})
	}
	if len(missing) > 0 {
		t.Fatalf("no type recorded for %d expressions, e.g. %s", len(missing), missing[0])
	}
}

// walkExprs calls fn for every expression in e, nested ones included.
func walkExprs(e Evaluable, fn func(Expr)) {
	var expr func(x Expr)
	expr = func(x Expr) {
		if x == nil {
			return
		}
		fn(x)
		if a, ok := x.(*Apply); ok {
			for _, arg := range a.Args {
				expr(arg)
			}
		}
	}
	target := func(t *Target) {
		if t == nil {
			return
		}
		for _, any := range t.AnyOf {
			for _, all := range any.AllOf {
				for _, m := range all.Matches {
					expr(m.Value)
					expr(m.Attribute)
				}
			}
		}
	}
	effects := func(list []*EffectExpression) {
		for _, ee := range list {
			for _, a := range ee.Assignments {
				expr(a.Expr)
			}
		}
	}
	switch p := e.(type) {
	case *Policy:
		target(p.Target)
		for _, v := range p.Variables {
			expr(v.Expr)
		}
		for _, r := range p.Rules {
			target(r.Target)
			expr(r.Condition)
			effects(r.Obligations)
			effects(r.Advice)
		}
		effects(p.Obligations)
		effects(p.Advice)
	case *PolicySet:
		target(p.Target)
		for _, c := range p.Children {
			if child, ok := c.(Evaluable); ok {
				walkExprs(child, fn)
			}
		}
		effects(p.Obligations)
		effects(p.Advice)
	}
}
