package compile_test

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/xacml"
	"github.com/verdict-authz/verdict/xacml/compile"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestGolden compiles each testdata policy and compares the emitted Rego
// with its golden file, so every change to the generated code is reviewed.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	yamls, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, yamls...)
	if len(files) == 0 {
		t.Fatal("no testdata policies")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out := compileFile(t, f)
			got := render(out)
			golden := strings.TrimSuffix(f, filepath.Ext(f)) + ".rego.golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(want) != got {
				t.Errorf("emitted Rego differs from %s (run go test ./xacml/compile -update and review the diff)\n%s", golden, got)
			}
		})
	}
}

// TestDeterministic: the same model always yields the same text.
func TestDeterministic(t *testing.T) {
	a := render(compileFile(t, "testdata/records.yaml"))
	for i := 0; i < 5; i++ {
		if b := render(compileFile(t, "testdata/records.yaml")); a != b {
			t.Fatal("compilation is not deterministic")
		}
	}
}

func compileFile(t *testing.T, f string) *compile.Output {
	t.Helper()
	e, err := xacml.ParseFile(f)
	if err != nil {
		t.Fatal(err)
	}
	set, err := xacml.NewSet([]xacml.Evaluable{e})
	if err != nil {
		t.Fatal(err)
	}
	checked, err := xacml.Check(set, e, xacml.StandardFunctions())
	if err != nil {
		t.Fatal(err)
	}
	out, err := compile.Compile(checked)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func render(out *compile.Output) string {
	names := make([]string, 0, len(out.Modules))
	for n := range out.Modules {
		if n == "verdict/lib.rego" {
			continue // the prelude is reviewed as source
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		b.WriteString("# ---- " + n + " ----\n" + out.Modules[n] + "\n")
	}
	return b.String()
}
