package policytest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pap/policytest"
)

const policy = `policy: urn:example:docs
combining: deny-unless-permit
rules:
  - id: owners
    effect: Permit
    condition:
      string-at-least-one-member-of:
        - {attr: {category: subject, id: email}}
        - {attr: {category: resource, id: ownerID}}
    obligations:
      - id: urn:example:log
        on: Permit
        assign:
          - {id: who, value: {attr: {category: subject, id: email}}}
`

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRunDir(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "docs.yaml", policy)
	write(t, dir, "docs_test.yaml", `pips:
  - category: subject
    key: id
    entities:
      alice: {email: alice@example.com}
tests:
  - name: owner
    request:
      subject: {type: user, id: alice}
      action: {name: read}
      resource: {type: doc, id: "1", properties: {ownerID: alice@example.com}}
    decision: Permit
    obligations: [urn:example:log]
  - name: stranger
    request:
      subject: {type: user, id: bob}
      action: {name: read}
      resource: {type: doc, id: "1", properties: {ownerID: alice@example.com}}
    decision: Deny
    obligations: []
  - name: wrong expectation
    request:
      subject: {type: user, id: alice}
      action: {name: read}
      resource: {type: doc, id: "1", properties: {ownerID: alice@example.com}}
    decision: Deny
`)
	results, err := policytest.RunDir(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 {
		t.Fatalf("got %d results", len(results))
	}
	if results[0].Failure != "" || results[1].Failure != "" {
		t.Fatalf("expected passes, got %+v", results[:2])
	}
	if !strings.Contains(results[2].Failure, "decision Permit, want Deny") {
		t.Fatalf("the wrong expectation must fail naming the decision, got %q", results[2].Failure)
	}
}

func TestParseRefusesBadFiles(t *testing.T) {
	for name, body := range map[string]string{
		"unknown field": "tests: []\nextra: 1\n",
		"no name":       "tests:\n  - request: {}\n    decision: Permit\n",
		"bad decision":  "tests:\n  - name: x\n    request: {subject: {}}\n    decision: Allow\n",
	} {
		if _, err := policytest.Parse(name, []byte(body)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestNoTests(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "docs.yaml", policy)
	if _, err := policytest.RunDir(context.Background(), dir); err == nil {
		t.Fatal("a directory without tests must be an error")
	}
}
