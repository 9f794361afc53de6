package sdk_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pip"
	"github.com/verdict-authz/verdict/pip/jsonfile"
	"github.com/verdict-authz/verdict/sdk"
)

// The AuthZEN Todo scenario: Verdict's XACML policy with its json-file PIP
// (../policies/authzen-todo), and the OPA reference workload
// (../shared/bench/opa-todo: 40 requests, expected decisions, Rego).
var todoPolicyDir = filepath.Join("..", "policies", "authzen-todo")

// todoBenchDir finds ../shared/bench/opa-todo: next to the conformance
// folder when VERDICT_CONFORMANCE_DIR is set (then it must exist), else
// relative to the repository, skipping when absent (a user's clone).
func todoBenchDir(tb testing.TB) string {
	tb.Helper()
	if c := os.Getenv("VERDICT_CONFORMANCE_DIR"); c != "" {
		dir := filepath.Join(c, "..", "bench", "opa-todo")
		if _, err := os.Stat(dir); err != nil {
			tb.Fatalf("VERDICT_CONFORMANCE_DIR is set but %s is missing: %v", dir, err)
		}
		return dir
	}
	dir := filepath.Join("..", "..", "shared", "bench", "opa-todo")
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("skipping: the OPA Todo reference %s is absent (a clone without ../shared)", dir)
	}
	return dir
}

// todoCase is one request of requests.jsonl with its expected decision.
type todoCase struct {
	raw      []byte
	input    map[string]any
	req      *pdp.Request
	expected bool
}

func todoCases(tb testing.TB) []todoCase {
	tb.Helper()
	dir := todoBenchDir(tb)
	data, err := os.ReadFile(filepath.Join(dir, "requests.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	var expected []bool
	exp, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(exp, &expected); err != nil {
		tb.Fatal(err)
	}
	var out []todoCase
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		req, err := sdk.ParseAuthZENRequest(line)
		if err != nil {
			tb.Fatalf("request %d: %v", len(out), err)
		}
		var in map[string]any
		if err := json.Unmarshal(line, &in); err != nil {
			tb.Fatal(err)
		}
		out = append(out, todoCase{raw: append([]byte(nil), line...), input: in, req: req})
	}
	if len(out) != len(expected) || len(out) == 0 {
		tb.Fatalf("%d requests, %d expected decisions", len(out), len(expected))
	}
	for i := range out {
		out[i].expected = expected[i]
	}
	return out
}

// todoPIPs is the scenario's json-file PIP: users keyed by subject id.
func todoPIPs(tb testing.TB) *pip.Set {
	tb.Helper()
	prov, err := jsonfile.New(filepath.Join(todoPolicyDir, "users.json"),
		pip.AttributeRef{Category: pdp.CategorySubject, ID: "id"}, jsonfile.WithReloadInterval(0))
	if err != nil {
		tb.Fatal(err)
	}
	set, err := pip.NewSet(pip.Source{Name: "users", Provider: prov})
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

func todoPolicy(tb testing.TB) *pdp.Policy {
	return compileFile(tb, filepath.Join(todoPolicyDir, "todo.xml"), "todo", 1)
}

// TestTodoScenario decides the 40 reference requests through the SDK, with
// the PIP supplying the users' roles, and checks the PIP fetches are in the
// decision (and thus in the decision log).
func TestTodoScenario(t *testing.T) {
	cases := todoCases(t)
	p := mustNew(t, sdk.WithPolicy(todoPolicy(t)), sdk.WithPIPs(todoPIPs(t)))
	fetched := 0
	for i, c := range cases {
		d, err := p.Decide(t.Context(), c.req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got := d.Effect == pdp.EffectPermit; got != c.expected {
			t.Errorf("request %d %s: %s, want permit=%t", i, c.raw, d.Effect, c.expected)
		}
		if len(d.PIPValues) > 0 {
			fetched++
		}
	}
	if fetched == 0 {
		t.Error("no decision recorded a PIP fetch")
	}
}
