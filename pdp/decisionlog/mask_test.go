package decisionlog_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pip"
)

func TestMaskerDropsAndHashes(t *testing.T) {
	m, err := decisionlog.NewMasker([]byte("k1"),
		decisionlog.Rule{Path: "subject/email", Action: decisionlog.MaskHash},
		decisionlog.Rule{Path: "subject/token", Action: decisionlog.MaskDrop},
	)
	if err != nil {
		t.Fatal(err)
	}
	r := record(1)
	r.Request = append(r.Request, pdp.Attribute{Category: pdp.CategorySubject, ID: "token", Values: []pdp.Value{{Type: "string", Lexical: "secret"}}})
	orig := r.Request
	pipVals := pip.Values{"email": {"bob@example.com"}, "role": {"admin"}}
	r.PIPValues = []pip.Record{{Source: "users", Category: pdp.CategorySubject, Key: "bob", Values: pipVals}}
	m.Apply(&r)

	if len(r.Request) != 2 {
		t.Fatalf("token not dropped: %+v", r.Request)
	}
	email := r.Request[1].Values[0].Lexical
	if !strings.HasPrefix(email, decisionlog.HashPrefix) || email != m.Hash("alice@example.com") {
		t.Fatalf("email not hashed with the key: %q", email)
	}
	if orig[1].Values[0].Lexical != "alice@example.com" || len(orig) != 3 {
		t.Fatal("masking mutated the caller's attributes")
	}
	if got := r.PIPValues[0].Values["email"][0]; got != m.Hash("bob@example.com") {
		t.Fatalf("PIP email not hashed: %v", got)
	}
	if pipVals["email"][0] != "bob@example.com" {
		t.Fatal("masking mutated the engine's PIP values")
	}
	if r.PIPValues[0].Values["role"][0] != "admin" {
		t.Fatal("unmasked PIP value changed")
	}
	want := map[string]decisionlog.MaskAction{"subject/email": decisionlog.MaskHash, "subject/token": decisionlog.MaskDrop}
	if len(r.Masked) != len(want) {
		t.Fatalf("masked = %+v", r.Masked)
	}
	for _, f := range r.Masked {
		if want[f.Path] != f.Action {
			t.Fatalf("masked = %+v", r.Masked)
		}
	}

	other, _ := decisionlog.NewMasker([]byte("k2"), decisionlog.Rule{Path: "subject/email", Action: decisionlog.MaskHash})
	if other.Hash("alice@example.com") == m.Hash("alice@example.com") {
		t.Fatal("hash does not depend on the key")
	}
}

func TestMaskerLeavesUnmatchedRecordsAlone(t *testing.T) {
	m, err := decisionlog.NewMasker(nil, decisionlog.Rule{Path: "resource/secret", Action: decisionlog.MaskDrop})
	if err != nil {
		t.Fatal(err)
	}
	r := record(1)
	m.Apply(&r)
	if len(r.Masked) != 0 || len(r.Request) != 2 {
		t.Fatalf("record changed: %+v", r)
	}
}

func TestMaskerRejectsBadRules(t *testing.T) {
	for name, rule := range map[string]decisionlog.Rule{
		"no slash":       {Path: "email", Action: decisionlog.MaskDrop},
		"unknown action": {Path: "subject/email", Action: "blur"},
		"hash no key":    {Path: "subject/email", Action: decisionlog.MaskHash},
	} {
		if _, err := decisionlog.NewMasker(nil, rule); !errors.Is(err, decisionlog.ErrInvalidMask) {
			t.Errorf("%s: err = %v, want ErrInvalidMask", name, err)
		}
	}
}
