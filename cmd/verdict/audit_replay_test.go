package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/verdict-authz/verdict/pap/store"
	papsqlite "github.com/verdict-authz/verdict/pap/store/sqlite"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/decisionlog/natspub"
	"github.com/verdict-authz/verdict/pip"
)

// Revision 1 permits admins; revision 2 permits nobody. Roles reach the
// policy from a PIP, so replay must use the recorded PIP values.
const replayRego = `package verdict.main

import rego.v1

subj := "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"

result := {"d": "P", "o": [], "a": []} if {
	%s
	"admin" in input.a[subj].roles.string
} else := {"d": "D", "o": [], "a": []}
`

// TestAuditReplayAndChanges pushes two revisions into a PAP store, logs a
// decision made under the first, and replays it through `verdict audit
// replay` against both, then lists the change log.
func TestAuditReplayAndChanges(t *testing.T) {
	url := natstest.URL(t)
	dir := t.TempDir()
	pap, err := papsqlite.Open(t.Context(), filepath.Join(dir, "pap.db"))
	if err != nil {
		t.Fatal(err)
	}
	for i, cond := range []string{"true", "false"} {
		sources := []store.Source{{Name: "p.yaml", Format: "xacml-yaml", Content: fmt.Appendf(nil, "policy: p\n# %d\n", i)}}
		if i == 1 {
			sources = append(sources, store.Source{Name: "q.yaml", Format: "xacml-yaml", Content: []byte("policy: q\n")})
		}
		_, err := pap.Create(t.Context(), store.Draft{
			Service: "orders", Parent: int64(i), Author: "alice@example.com", Message: fmt.Sprintf("revision %d", i+1),
			Content: store.Content{
				Sources:      sources,
				RootPolicyID: "p",
				Rego:         map[string]string{"verdict/main.rego": fmt.Sprintf(replayRego, cond)},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
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

	logger, err := decisionlog.New(t.Context(), natspub.New(js), decisionlog.WithSubjectPrefix(prefix), decisionlog.WithBatch(1, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	logger.Log(t.Context(), decisionlog.Record{
		DecisionID: "replay-1", Time: time.Now().UTC(), Service: "orders", Revision: 1,
		Request:   []pdp.Attribute{{Category: pdp.CategorySubject, ID: "id", Values: []pdp.Value{{Type: "string", Lexical: "carol"}}}},
		PIPValues: []pip.Record{{Source: "users", Category: pdp.CategorySubject, Key: "carol", Values: pip.Values{"roles": {"admin"}}}},
		Effect:    pdp.EffectPermit, Status: pdp.Status{Code: pdp.StatusOK},
	})
	if err := logger.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if code, _, _ := auditCLI(t, "audit", "get", "--config", platform, "--id", "replay-1"); code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("record never stored")
		}
	}

	code, out, errOut := auditCLI(t, "audit", "replay", "--config", platform, "--id", "replay-1")
	if code != 0 || !strings.Contains(out, "recorded Permit under revision 1, replayed Permit under revision 1") || strings.Contains(out, "CHANGED") {
		t.Fatalf("replay at the recorded revision: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = auditCLI(t, "audit", "replay", "--config", platform, "--id", "replay-1", "--revision", "2")
	if code != 0 || !strings.Contains(out, "replayed Deny under revision 2") || !strings.Contains(out, "DECISION CHANGED") || !strings.Contains(out, `decision: "Permit" -> "Deny"`) {
		t.Fatalf("replay at revision 2: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := auditCLI(t, "audit", "replay", "--config", platform, "--id", "replay-1", "--revision", "9"); code != 2 {
		t.Fatalf("replay at a missing revision: exit %d %s", code, errOut)
	}

	code, out, errOut = auditCLI(t, "audit", "changes", "--config", platform, "--service", "orders")
	if code != 0 || strings.Count(out, "alice@example.com") != 2 || !strings.Contains(out, "revision 2") {
		t.Fatalf("changes: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = auditCLI(t, "audit", "changes", "--config", platform, "--service", "orders", "--limit", "1", "--output", "json")
	if code != 0 || !strings.Contains(out, `"CHANGE_TYPE_MODIFIED"`) || !strings.Contains(out, `"q.yaml"`) || !strings.Contains(out, `"CHANGE_TYPE_ADDED"`) || !strings.Contains(out, `"nextPageToken"`) {
		t.Fatalf("changes with files: exit %d\n%s\n%s", code, out, errOut)
	}
}
