package main

import (
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pap/policytest"
)

// TestExamplePolicies runs every example in policies/ the way the README
// shows: the XACML requests through `verdict xacml eval` and the test files
// through `verdict policy test`.
func TestExamplePolicies(t *testing.T) {
	for _, c := range []struct{ request, decision string }{
		{"../../policies/medical/request-permit.xml", "<Decision>Permit</Decision>"},
		{"../../policies/medical/request-notapplicable.xml", "<Decision>NotApplicable</Decision>"},
	} {
		code, out, stderr := runCLI(t, "", "xacml", "eval", "--policy", "../../policies/medical/records.xml", "--request", c.request)
		if code != 0 || !strings.Contains(out, c.decision) {
			t.Errorf("%s: exit %d, want %s\n%s%s", c.request, code, c.decision, out, stderr)
		}
	}
	for _, dir := range []string{"../../policies/medical", "../../policies/authzen-todo"} {
		files, err := policytest.Find(dir)
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no policy tests (%v)", dir, err)
		}
		code, out, stderr := runCLI(t, "", "policy", "test", dir)
		if code != 0 || !strings.Contains(out, " 0 failed") {
			t.Errorf("policy test %s: exit %d\n%s%s", dir, code, out, stderr)
		}
	}
}
