package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestPDPServeLogsDecisions runs `verdict pdp serve` with a decision_log
// section and checks that an AuthZEN decision reaches JetStream as a record
// with its decision, on the service's subject.
func TestPDPServeLogsDecisions(t *testing.T) {
	url := natstest.URL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	stream, prefix := "T_PDPLOG_"+strings.ToUpper(id), "t"+id+".decisions"
	abs, err := filepath.Abs("../../policies/authzen-todo")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "pdp.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `listen: {http: 127.0.0.1:0, grpc: 127.0.0.1:0}
insecure_plaintext: true
service: todo
policies: [%s/todo.xml]
pips:
  - type: json-file
    file: %s/users.json
    key: {category: subject, attribute: id}
decision_log:
  nats: %s
  stream: %s
  subject_prefix: %s
  spool: spool
  instance: pdp-test
`, abs, abs, url, stream, prefix), 0o600); err != nil {
		t.Fatal(err)
	}
	// The audit collector owns the stream; create it as it would.
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{prefix + ".>"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), stream) })
	s := serveCommand(t, "--config", cfg)
	body := `{"subject":{"type":"user","id":"CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},"action":{"name":"can_delete_todo"},"resource":{"type":"todo","id":"1","properties":{"ownerID":"morty@the-citadel.com"}}}`
	resp, err := http.Post("http://"+s.httpAddr+"/access/v1/evaluation", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if code := s.stop(); code != 0 {
		t.Fatalf("pdp serve exited %d: %s", code, s.stderr.String())
	}
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v\n%s", stream, err, s.stderr.String())
	}
	msg, err := st.GetLastMsgForSubject(ctx, prefix+".todo")
	if err != nil {
		t.Fatalf("no decision record on %s.todo: %v\n%s", prefix, err, s.stderr.String())
	}
	var rec map[string]any
	if err := json.Unmarshal(msg.Data, &rec); err != nil {
		t.Fatalf("record is not JSON: %v", err)
	}
	text := string(msg.Data)
	if !strings.Contains(text, "Permit") || !strings.Contains(text, "can_delete_todo") {
		t.Fatalf("record lacks the decision or the request: %s", text)
	}
}
