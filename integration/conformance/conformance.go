// Package conformance locates the shared conformance data for tests.
//
// CI sets VERDICT_CONFORMANCE_DIR to the absolute path of
// ../shared/conformance, and then a missing folder is a failure. Without the
// variable, tests look for ../shared/conformance next to the repository and
// skip, naming the reason, only when it is absent (a user's clone has no
// ../shared). Only tests import this package.
package conformance

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar names the variable CI sets.
const EnvVar = "VERDICT_CONFORMANCE_DIR"

// Dir returns the conformance folder, or fails or skips t as described in
// the package documentation.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(EnvVar); d != "" {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			t.Fatalf("%s=%s is not a directory: %v", EnvVar, d, err)
		}
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	// Walk up to the repository root (the folder with go.mod).
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(filepath.Dir(dir), "shared", "conformance")
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				return d
			}
			t.Skipf("conformance data not found: %s is unset and %s does not exist (a clone without ../shared)", EnvVar, d)
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("no go.mod above %s", wd)
		}
	}
}
