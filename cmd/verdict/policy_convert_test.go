package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/xacml"
)

func modelOf(t *testing.T, path string) xacml.Evaluable {
	t.Helper()
	e, err := xacml.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestPolicyConvertRoundTrip(t *testing.T) {
	dir := t.TempDir()
	src := "../../xacml/compile/testdata/records.yaml"
	xmlFile := filepath.Join(dir, "records.xml")
	if code, _, stderr := runCLI(t, "", "policy", "convert", "--out", xmlFile, src); code != 0 {
		t.Fatalf("to xml: exit %d: %s", code, stderr)
	}
	back := filepath.Join(dir, "back.yaml")
	if code, _, stderr := runCLI(t, "", "policy", "convert", "--out", back, xmlFile); code != 0 {
		t.Fatalf("to yaml: exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(xmlFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(">27.50<")) {
		t.Fatal("the lexical form 27.50 was not kept in XML")
	}
	var a, b bytes.Buffer
	if err := xacml.WriteYAML(&a, modelOf(t, src)); err != nil {
		t.Fatal(err)
	}
	if err := xacml.WriteYAML(&b, modelOf(t, back)); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Fatalf("round trip changed the model:\n%s\n---\n%s", a.String(), b.String())
	}
	if reflect.DeepEqual(a.Bytes(), []byte{}) {
		t.Fatal("empty output")
	}
}

func TestPolicyFmt(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.yaml")
	if code, _, stderr := runCLI(t, "", "policy", "convert", "--to", "yaml", "--out", plain, "../../xacml/compile/testdata/set.yaml"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// Already canonical: --check passes.
	if code, out, _ := runCLI(t, "", "policy", "fmt", "--check", dir); code != 0 {
		t.Fatalf("canonical file reported as unformatted: %s", out)
	}
	// A reindented file is reported, then fixed.
	data, _ := os.ReadFile(plain)
	messy := strings.Replace(string(data), "combining: only-one-applicable", "combining:    only-one-applicable", 1)
	if err := os.WriteFile(plain, []byte(messy), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI(t, "", "policy", "fmt", "--check", dir); code != 1 || !strings.Contains(out, "plain.yaml") {
		t.Fatalf("unformatted file not reported: exit %d %q", code, out)
	}
	if code, _, stderr := runCLI(t, "", "policy", "fmt", dir); code != 0 {
		t.Fatalf("fmt: exit %d %s", code, stderr)
	}
	if code, _, _ := runCLI(t, "", "policy", "fmt", "--check", dir); code != 0 {
		t.Fatal("fmt did not format the file")
	}
	// A file with comments is not rewritten without --force.
	commented := filepath.Join(dir, "commented.yaml")
	if err := os.WriteFile(commented, []byte("# keep me\n"+messy), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "", "policy", "fmt", commented); code != 0 || !strings.Contains(stderr, "comments") {
		t.Fatalf("commented file: exit %d %q", code, stderr)
	}
	if got, _ := os.ReadFile(commented); !strings.HasPrefix(string(got), "# keep me") {
		t.Fatal("fmt dropped a comment without --force")
	}
}
