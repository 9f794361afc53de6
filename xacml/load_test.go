package xacml

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadPaths(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, text string) string {
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	write("a.xml", strings.Replace(pol(""), `PolicyId="p"`, `PolicyId="a"`, 1))
	write("sub/b.yaml", "policy: b\ncombining: deny-overrides\n")
	write("sub/deeper/c.yml", "policyset: c\ncombining: deny-overrides\npolicies: [{policy_ref: b}]\n")
	write("sub/b_test.yaml", "not: a policy\n")
	write("sub/b.test.yml", "not: a policy\n")
	write("pdp.yaml", "listen: {http: 127.0.0.1:0}\n")
	write("Request.xml", `<Request xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" ReturnPolicyIdList="false" CombinedDecision="false"/>`)
	write("notes.txt", "ignored")
	write(".git/x.xml", "<broken")
	got, err := LoadPaths(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got {
		id, _ := e.Identity()
		ids = append(ids, id)
	}
	if !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Fatalf("loaded %v", ids)
	}
	if _, err := FindRoot(got, ""); !errors.Is(err, ErrReference) {
		t.Fatalf("a and c are both unreferenced: %v", err)
	}
	root, err := FindRoot(got, "c")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(mustSet(t, got), root, nil); err != nil {
		t.Fatalf("check: %v", err)
	}

	// Errors from several files are all reported, the first file first.
	bad1 := write("bad/1.xml", pol(`<Rule RuleId="r" Effect="Maybe"/>`+"<Oops/>"))
	write("bad/2.yaml", "policy: [\n")
	_, err = LoadPaths(filepath.Join(dir, "bad"))
	if err == nil || len(SplitErrors(err)) != 2 || !strings.HasPrefix(err.Error(), bad1+":") {
		t.Fatalf("want two errors starting with %s, got %v", bad1, err)
	}

	// A file named explicitly is parsed whatever its name.
	if _, err := LoadPaths(filepath.Join(dir, "sub", "b_test.yaml")); err == nil {
		t.Fatal("explicit non-policy file accepted")
	}
	if _, err := LoadPaths(filepath.Join(dir, "missing.xml")); !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), filepath.Join(dir, "missing.xml")+": ") {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := ParseFile(write("x.json", "{}")); !errors.Is(err, ErrSyntax) {
		t.Fatalf("unknown extension: %v", err)
	}
}

func mustSet(t *testing.T, es []Evaluable) *Set {
	t.Helper()
	s, err := NewSet(es)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIsPolicyFileName(t *testing.T) {
	for name, want := range map[string]bool{
		"a.xml": true, "a.yaml": true, "a.YML": true, "dir/a.yml": true,
		"a_test.yaml": false, "a.test.yml": false, "pdp.yaml": false, ".hidden.xml": false,
		"a.json": false, "README.md": false,
	} {
		if got := IsPolicyFileName(name); got != want {
			t.Errorf("IsPolicyFileName(%q) = %v", name, got)
		}
	}
}
