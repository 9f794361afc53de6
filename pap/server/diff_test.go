package server

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestUnifiedDiffMatchesDiffU(t *testing.T) {
	diffBin, err := exec.LookPath("diff")
	if err != nil {
		t.Skip("skipped: no diff(1) on this machine to compare with")
	}
	lines := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			b.WriteString(f(i))
			b.WriteByte('\n')
		}
		return b.String()
	}
	base := lines(40, func(i int) string { return "line " + string(rune('a'+i%26)) + strings.Repeat("x", i%5) })
	cases := map[string][2]string{
		"one change":        {base, strings.Replace(base, "line c", "line C", 1)},
		"insert at start":   {base, "new\n" + base},
		"delete at end":     {base, base[:strings.LastIndex(base[:len(base)-1], "\n")+1]},
		"far apart changes": {base, strings.Replace(strings.Replace(base, "line b\n", "B\n", 1), "line y", "Y", 1)},
		"no final newline":  {"a\nb\nc", "a\nb\nd"},
		"all different":     {"a\nb\n", "c\nd\ne\n"},
		"from empty":        {"", "a\nb\n"},
	}
	dir := t.TempDir()
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
			os.WriteFile(pa, []byte(c[0]), 0o644)
			os.WriteFile(pb, []byte(c[1]), 0o644)
			out, _ := exec.Command(diffBin, "-u", "--label", "a/p", "--label", "b/p", pa, pb).Output()
			got := unifiedDiff("p", []byte(c[0]), []byte(c[1]))
			if got != string(out) {
				t.Fatalf("unifiedDiff:\n%s\ndiff -u:\n%s", got, out)
			}
		})
	}
}

func TestUnifiedDiffAddedRemovedEqualBinary(t *testing.T) {
	if got := unifiedDiff("p", []byte("a\n"), []byte("a\n")); got != "" {
		t.Errorf("equal files: %q", got)
	}
	if got := unifiedDiff("p", nil, []byte("a\n")); got != "--- /dev/null\n+++ b/p\n@@ -0,0 +1 @@\n+a\n" {
		t.Errorf("added: %q", got)
	}
	if got := unifiedDiff("p", []byte("a\n"), nil); got != "--- a/p\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n" {
		t.Errorf("removed: %q", got)
	}
	if got := unifiedDiff("p", []byte{0xff}, []byte("a")); !strings.HasSuffix(got, "Binary files differ\n") {
		t.Errorf("binary: %q", got)
	}
}

func TestDiffLinesGivesUpOnHugeDifferences(t *testing.T) {
	var a, b []string
	for i := 0; i < 3000; i++ {
		a = append(a, "a"+string(rune(i))+"\n")
		b = append(b, "b"+string(rune(i))+"\n")
	}
	ops := diffLines(a, b)
	if len(ops) != 6000 {
		t.Fatalf("%d ops, want 6000 (everything replaced)", len(ops))
	}
}
