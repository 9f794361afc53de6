package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	_ "modernc.org/sqlite"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
)

var listeningAudit = regexp.MustCompile(`msg=listening audit=(\S+)`)

func auditCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	out, errw := &lockedBuffer{}, &lockedBuffer{}
	code = run(t.Context(), &cliEnv{stdin: strings.NewReader(""), stdout: out, stderr: errw}, args)
	return code, out.String(), errw.String()
}

// TestAuditCommandsEndToEnd runs `verdict audit serve` against NATS,
// ships decisions through a decisionlog.Logger, and uses the client
// commands through the platform configuration: query with filters and
// JSON output, verify (intact, then a truncated tail detected), changes.
func TestAuditCommandsEndToEnd(t *testing.T) {
	url := natstest.URL(t)
	dir := t.TempDir()
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	stream, prefix := "T_AUDITCLI_"+strings.ToUpper(id), "t"+id+".decisions"
	cfgPath := filepath.Join(dir, "audit.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, `listen: 127.0.0.1:0
insecure_plaintext: true
nats: {url: %q, stream: %s, subject_prefix: %s, durable: cli}
store: {sqlite: audit.db}
policy_store: {sqlite: pap.db}
signing_key: audit-key.pem
checkpoints: checkpoints.jsonl
`, url, stream, prefix), 0o600); err != nil {
		t.Fatal(err)
	}
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

	ctx, cancel := context.WithCancel(t.Context())
	stderr := &lockedBuffer{}
	exited := make(chan int, 1)
	go func() {
		exited <- run(ctx, &cliEnv{stdin: strings.NewReader(""), stdout: &lockedBuffer{}, stderr: stderr}, []string{"audit", "serve", "--config", cfgPath})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			t.Error("audit serve did not stop")
		}
	})
	var addr string
	for deadline := time.Now().Add(20 * time.Second); addr == ""; time.Sleep(20 * time.Millisecond) {
		if m := listeningAudit.FindStringSubmatch(stderr.String()); m != nil {
			addr = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listening line:\n%s", stderr.String())
		}
	}
	platform := filepath.Join(dir, "verdict.yaml")
	if err := os.WriteFile(platform, fmt.Appendf(nil, "endpoints: {audit: \"http://%s\"}\n", addr), 0o600); err != nil {
		t.Fatal(err)
	}

	const n = 40
	if err := os.WriteFile(filepath.Join(dir, "mask.key"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	logger, closeLog, err := openDecisionLog(t.Context(), decisionLogConfig{
		NATS: url, SubjectPrefix: prefix, Spool: "spool", Instance: "pdp-7", MaskKeyFile: "mask.key",
		Mask: []maskRule{{Path: "subject/email", Action: "hash"}},
	}, dir, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		effect := pdp.EffectPermit
		if i%4 == 0 {
			effect = pdp.EffectDeny
		}
		logger.Log(t.Context(), decisionlog.Record{
			DecisionID: fmt.Sprintf("cli-%03d", i), Time: time.Now().UTC(), Service: "todo", Revision: 1,
			Request: []pdp.Attribute{
				{Category: pdp.CategorySubject, ID: "id", Values: []pdp.Value{{Type: "string", Lexical: fmt.Sprintf("user%d", i%2)}}},
				{Category: pdp.CategoryAction, ID: "name", Values: []pdp.Value{{Type: "string", Lexical: "can_read_todos"}}},
				{Category: pdp.CategorySubject, ID: "email", Values: []pdp.Value{{Type: "string", Lexical: "rick@the-citadel.com"}}},
			},
			Effect: effect, Status: pdp.Status{Code: pdp.StatusOK},
		})
	}
	if err := closeLog(t.Context()); err != nil {
		t.Fatal(err)
	}

	var resp struct {
		Records []struct {
			DecisionID string `json:"decisionId"`
		} `json:"records"`
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, out, errOut := auditCLI(t, "audit", "query", "--config", platform, "--service", "todo", "--subject", "user0",
			"--decision", "deny", "--since", "1h", "--limit", "3", "--all", "--output", "json")
		if code != 0 {
			t.Fatalf("audit query: exit %d: %s", code, errOut)
		}
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatalf("audit query output: %v\n%s", err, out)
		}
		if len(resp.Records) == n/4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query found %d deny records for user0, want %d", len(resp.Records), n/4)
		}
	}
	if code, out, errOut := auditCLI(t, "audit", "query", "--config", platform, "--limit", "5"); code != 0 || !strings.Contains(out, "DECISION") || !strings.Contains(errOut, "--page-token") {
		t.Fatalf("table output: exit %d\n%s\n%s", code, out, errOut)
	}

	// Masking happened before the record left the "PDP".
	code, out, errOut := auditCLI(t, "audit", "get", "--config", platform, "--id", "cli-005")
	if code != 0 || strings.Contains(out, "rick@") || !strings.Contains(out, "hmac-sha256:") || !strings.Contains(out, "MASK_ACTION_HASH") || !strings.Contains(out, "pdp-7") {
		t.Fatalf("audit get: exit %d\n%s\n%s", code, out, errOut)
	}

	// The collector checkpoints the head; wait until it covers all records.
	cpFile := audit.NewCheckpointFile(filepath.Join(dir, "checkpoints.jsonl"))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		latest, err := cpFile.Latest()
		if err != nil {
			t.Fatal(err)
		}
		if latest["todo"].Seq == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint of the whole chain: %+v", latest)
		}
	}
	if code, out, errOut := auditCLI(t, "audit", "verify", "--config", platform); code != 0 || !strings.Contains(out, "todo: intact, 40 records") {
		t.Fatalf("verify: exit %d\n%s\n%s", code, out, errOut)
	}

	// Truncate the tail behind the server's back.
	db, err := sql.Open("sqlite", filepath.Join(dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), `DELETE FROM decisions WHERE seq > 37`); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = auditCLI(t, "audit", "verify", "--config", platform, "--checkpoints", filepath.Join(dir, "checkpoints.jsonl"))
	if code != 1 || !strings.Contains(out, "truncated at 38") || !strings.Contains(errOut, "tampered") {
		t.Fatalf("truncation: exit %d\n%s\n%s", code, out, errOut)
	}

	if code, out, errOut := auditCLI(t, "audit", "changes", "--config", platform, "--output", "json"); code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "{") {
		t.Fatalf("changes: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := auditCLI(t, "audit", "get", "--config", platform, "--id", "nope"); code != 2 || !strings.Contains(errOut, "not found") {
		t.Fatalf("get missing: exit %d %s", code, errOut)
	}
}
