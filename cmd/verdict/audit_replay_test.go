package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pap/store"
	papsqlite "github.com/verdict-authz/verdict/pap/store/sqlite"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/decisionlog/natspub"
	"github.com/verdict-authz/verdict/pip"
	"github.com/verdict-authz/verdict/sdk"
	"github.com/verdict-authz/verdict/xacml"
)

// replayPolicy permits subjects holding a role, which reaches the policy
// from a PIP. With permit-overrides, a PIP failure makes the decision
// Indeterminate, while a missing role makes it NotApplicable: a replay
// that lost the failure would show the second.
const replayPolicy = `policy: urn:verdict:test:replay
combining: permit-overrides
rules:
  - id: %[1]s-may
    effect: Permit
    target:
      - match: string-equal
        value: %[1]s
        attr: {category: subject, id: roles}
`

// replayContent compiles the policy for role as the PAP stores it.
func replayContent(t *testing.T, role string) store.Content {
	t.Helper()
	src := fmt.Appendf(nil, replayPolicy, role)
	p, err := xacml.ParseYAML("policy.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := build.CompileRoot([]xacml.Evaluable{p}, "")
	if err != nil {
		t.Fatal(err)
	}
	data, err := compiled.EnginePolicy("", 0).BundleData()
	if err != nil {
		t.Fatal(err)
	}
	enc, err := publish.EncodeData(data)
	if err != nil {
		t.Fatal(err)
	}
	return store.Content{
		Sources:      []store.Source{{Name: "policy.yaml", Format: "xacml-yaml", Content: src}},
		RootPolicyID: compiled.Output.RootID, Rego: compiled.Output.Modules, Data: enc,
	}
}

// TestAuditReplayThroughCLI makes real decisions with the SDK's embedded
// PDP under revision 1 of a PAP store (a PIP answering roles, failing for
// one subject), ships them through the decision log (masking an email) to
// `verdict audit serve`, and replays them with `verdict audit replay`:
// each replays as it was made at its revision, the PIP failure included,
// revision 2 changes the permitted one, and masked inputs are flagged.
func TestAuditReplayThroughCLI(t *testing.T) {
	url := natstest.URL(t)
	dir := t.TempDir()
	pap, err := papsqlite.Open(t.Context(), filepath.Join(dir, "pap.db"))
	if err != nil {
		t.Fatal(err)
	}
	for i, role := range []string{"admin", "superuser"} {
		if _, err := pap.Create(t.Context(), store.Draft{
			Service: "orders", Parent: int64(i), Author: "alice@example.com", Message: "permit " + role, Content: replayContent(t, role),
		}); err != nil {
			t.Fatal(err)
		}
	}
	pol, err := storePolicies{st: pap}.Policy(t.Context(), "orders", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := pap.Close(); err != nil {
		t.Fatal(err)
	}

	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	stream, prefix := "T_AUDITREPLAY_"+strings.ToUpper(id), "t"+id+".decisions"
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, stream)
	})
	cfg := &auditConfig{Listen: "127.0.0.1:0", InsecurePlaintext: true, Store: dbConfig{SQLite: filepath.Join(dir, "audit.db")},
		PolicyStore: &dbConfig{SQLite: filepath.Join(dir, "pap.db")}, SigningKey: filepath.Join(dir, "k.pem"), Checkpoints: filepath.Join(dir, "cp.jsonl")}
	cfg.NATS.URL, cfg.NATS.Stream, cfg.NATS.SubjectPrefix, cfg.NATS.Durable = url, stream, prefix, "replay"
	a, err := startAuditServer(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(context.WithoutCancel(t.Context())); err != nil {
			t.Error(err)
		}
	})
	platform := filepath.Join(dir, "verdict.yaml")
	if err := os.WriteFile(platform, fmt.Appendf(nil, "endpoints: {audit: \"http://%s\"}\n", a.Addr()), 0o600); err != nil {
		t.Fatal(err)
	}

	// The decision log, as an SDK service configures it: the Logger is the
	// SDK's DecisionLogger, emails are hashed before records leave.
	masker, err := decisionlog.NewMasker([]byte("mask-key"), decisionlog.Rule{Path: "subject/email", Action: decisionlog.MaskHash})
	if err != nil {
		t.Fatal(err)
	}
	logger, err := decisionlog.New(t.Context(), natspub.New(js), decisionlog.WithSubjectPrefix(prefix),
		decisionlog.WithBatch(1, time.Millisecond), decisionlog.WithMasker("", masker))
	if err != nil {
		t.Fatal(err)
	}
	users := pip.ProviderFunc(func(_ context.Context, q pip.Query) (pip.Values, error) {
		switch q.Key {
		case "carol":
			return pip.Values{"roles": {"admin"}}, nil
		case "dave":
			return nil, errors.New("directory unreachable")
		}
		return nil, nil
	})
	pips, err := pip.NewSet(pip.Source{Name: "users", Provider: users, Description: pip.Description{Key: pip.AttributeRef{Category: pdp.CategorySubject, ID: "id"}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := sdk.New(t.Context(), sdk.WithPolicy(pol), sdk.WithService("orders"), sdk.WithPIPs(pips), sdk.WithDecisionLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for subject, want := range map[string]pdp.Effect{"carol": pdp.EffectPermit, "dave": pdp.EffectIndeterminate, "erin": pdp.EffectNotApplicable} {
		req := &pdp.Request{}
		req.Add(pdp.CategorySubject, "id", pdp.Value{Type: "string", Lexical: subject})
		req.Add(pdp.CategorySubject, "email", pdp.Value{Type: "string", Lexical: subject + "@example.com"})
		d, err := p.Decide(t.Context(), req)
		if err != nil || d.Effect != want {
			t.Fatalf("%s: %v %v, want %s", subject, d, err, want)
		}
		ids[subject] = d.ID
	}
	if err := p.Close(); err != nil { // hands the queued records to the logger
		t.Fatal(err)
	}
	if err := logger.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if code, _, _ := auditCLI(t, "audit", "get", "--config", platform, "--id", id); code == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("record %s never stored", id)
			}
		}
	}

	replay := func(subject string, args ...string) string {
		t.Helper()
		code, out, errOut := auditCLI(t, append([]string{"audit", "replay", "--config", platform, "--id", ids[subject]}, args...)...)
		if code != 0 {
			t.Fatalf("replay %s %v: exit %d\n%s\n%s", subject, args, code, out, errOut)
		}
		return out
	}
	for subject, want := range map[string]string{
		"carol": "recorded Permit under revision 1, replayed Permit under revision 1",
		"dave":  "recorded Indeterminate under revision 1, replayed Indeterminate under revision 1",
		"erin":  "recorded NotApplicable under revision 1, replayed NotApplicable under revision 1",
	} {
		out := replay(subject)
		if !strings.Contains(out, want) || strings.Contains(out, "CHANGED") || strings.Contains(out, "->") {
			t.Fatalf("replay of %s at the recorded revision:\n%s", subject, out)
		}
		if !strings.Contains(out, "MASKED INPUTS: subject/email (hash)") {
			t.Fatalf("replay of %s does not flag the masked email:\n%s", subject, out)
		}
	}
	if out := replay("dave"); !strings.Contains(out, "note: PIP users failed") || !strings.Contains(out, "directory unreachable") {
		t.Fatalf("replay of the PIP failure does not say so:\n%s", out)
	}
	if out := replay("carol", "--revision", "2"); !strings.Contains(out, "replayed NotApplicable under revision 2") || !strings.Contains(out, "DECISION CHANGED") ||
		!strings.Contains(out, `decision: "Permit" -> "NotApplicable"`) {
		t.Fatalf("replay at revision 2:\n%s", out)
	}
	if out := replay("dave", "--revision", "2"); !strings.Contains(out, "replayed Indeterminate under revision 2") || strings.Contains(out, "CHANGED") {
		t.Fatalf("replay of the PIP failure at revision 2:\n%s", out)
	}
	if code, _, errOut := auditCLI(t, "audit", "replay", "--config", platform, "--id", ids["carol"], "--revision", "9"); code != 2 {
		t.Fatalf("replay at a missing revision: exit %d %s", code, errOut)
	}
	code, out, errOut := auditCLI(t, "audit", "replay", "--config", platform, "--id", ids["dave"], "--output", "json")
	// protojson varies its white space on purpose: compare the compact form.
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(out)); err == nil {
		out = compact.String()
	}
	if code != 0 || !strings.Contains(out, `directory unreachable"`) || !strings.Contains(out, `"inputsMasked":true`) {
		t.Fatalf("replay --output json: exit %d\n%s\n%s", code, out, errOut)
	}
}
