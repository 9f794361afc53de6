package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/conformance"
	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/xacml"
)

const todoConfig = "../../policies/authzen-todo/pdp.yaml"

// lockedBuffer is an io.Writer safe for the server's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listeningLine = regexp.MustCompile(`listening http=(\S+) grpc=(\S+)`)

// serving is `verdict pdp serve` running in this process through run.
type serving struct {
	httpAddr, grpcAddr string
	stderr             *lockedBuffer
	stop               func() int
}

// serveCommand runs `verdict pdp serve ARGS...` and waits for the
// listening line; stop cancels it (as SIGTERM does) and returns the exit
// code.
func serveCommand(t *testing.T, args ...string) *serving {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &lockedBuffer{}
	env := &cliEnv{stdin: strings.NewReader(""), stdout: &lockedBuffer{}, stderr: stderr}
	code := make(chan int, 1)
	go func() { code <- run(ctx, env, append([]string{"pdp", "serve"}, args...)) }()
	s := &serving{stderr: stderr}
	var once sync.Once
	exit := -1
	s.stop = func() int {
		once.Do(func() {
			cancel()
			select {
			case exit = <-code:
			case <-time.After(20 * time.Second):
				t.Error("pdp serve did not stop after cancel")
			}
		})
		return exit
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listeningLine.FindStringSubmatch(stderr.String()); m != nil {
			s.httpAddr, s.grpcAddr = m[1], m[2]
			if n := strings.Count(stderr.String(), "listening http="); n != 1 {
				t.Fatalf("%d listening lines", n)
			}
			return s
		}
		select {
		case c := <-code:
			t.Fatalf("pdp serve exited with %d before listening: %s", c, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listening line: %s", stderr.String())
		}
	}
}

// todoVectors are the AuthZEN Todo interop vectors.
type todoVectors struct {
	Evaluation []struct {
		Request  json.RawMessage `json:"request"`
		Expected bool            `json:"expected"`
	} `json:"evaluation"`
	Evaluations []struct {
		Request  json.RawMessage `json:"request"`
		Expected []struct {
			Decision bool `json:"decision"`
		} `json:"expected"`
	} `json:"evaluations"`
}

// runTodoVectors posts every vector to base and fails t for each wrong
// answer; it returns how many passed out of how many.
func runTodoVectors(t *testing.T, base string) (pass, total int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(conformance.Dir(t), "authzen", "todo-1.0-decisions.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v todoVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	postJSON := func(path string, body []byte, into any) {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: HTTP %d", path, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range v.Evaluation {
		total++
		var got struct{ Decision *bool }
		postJSON("/access/v1/evaluation", e.Request, &got)
		if got.Decision == nil || *got.Decision != e.Expected {
			t.Errorf("evaluation %s: got %v, want %v", e.Request, got.Decision, e.Expected)
			continue
		}
		pass++
	}
	for _, e := range v.Evaluations {
		total++
		var got struct {
			Evaluations []struct{ Decision bool }
		}
		postJSON("/access/v1/evaluations", e.Request, &got)
		var want, have []bool
		for _, x := range e.Expected {
			want = append(want, x.Decision)
		}
		for _, x := range got.Evaluations {
			have = append(have, x.Decision)
		}
		if !reflect.DeepEqual(have, want) {
			t.Errorf("evaluations %s: got %v, want %v", e.Request, have, want)
			continue
		}
		pass++
	}
	return pass, total
}

// TestPDPServeTodo runs the 43 Todo vectors over HTTP against
// `verdict pdp serve --config policies/authzen-todo/pdp.yaml`.
func TestPDPServeTodo(t *testing.T) {
	s := serveCommand(t, "--config", todoConfig, "--http", "127.0.0.1:0", "--grpc", "127.0.0.1:0")
	pass, total := runTodoVectors(t, "http://"+s.httpAddr)
	if total != 43 || pass != total {
		t.Fatalf("%d/%d Todo vectors", pass, total)
	}
	t.Logf("%d/%d Todo vectors", pass, total)
	if code := s.stop(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM: %s", code, s.stderr.String())
	}
	if !strings.Contains(s.stderr.String(), "msg=stopped") {
		t.Fatalf("no clean stop logged: %s", s.stderr.String())
	}
	if _, err := net.DialTimeout("tcp", s.httpAddr, time.Second); err == nil {
		t.Fatal("still listening after shutdown")
	}
}

// TestPDPTodoInProcess builds the PDP of the Todo configuration with the
// same wiring as pdp serve and serves it on loopback ports it opened.
func TestPDPTodoInProcess(t *testing.T) {
	cfg, err := loadPDPConfig(todoConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p, err := newPDP(ctx, cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.server.Serve(ctx, ln, nil) }()
	pass, total := runTodoVectors(t, "http://"+ln.Addr().String())
	if total != 43 || pass != total {
		t.Fatalf("%d/%d Todo vectors", pass, total)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestTodoPolicyLiterals(t *testing.T) {
	policies, err := xacml.LoadPaths("../../policies/authzen-todo")
	if err != nil {
		t.Fatal(err)
	}
	if len(policies) != 1 {
		t.Fatalf("the folder holds one policy besides pdp.yaml and users.json, loaded %d", len(policies))
	}
	compiled, err := build.CompileRoot(policies, "")
	if err != nil {
		t.Fatal(err)
	}
	got := policyLiterals(compiled.Checked)
	want := []string{"can_create_todo", "can_delete_todo", "can_read_todos", "can_read_user", "can_update_todo"}
	if !reflect.DeepEqual(got.actions, want) {
		t.Fatalf("actions = %v, want %v", got.actions, want)
	}
	if len(got.subjectTypes) != 0 || len(got.resourceTypes) != 0 {
		t.Fatalf("the Todo policy names no entity types: %+v", got)
	}
}

func TestPDPServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	policy, err := os.ReadFile("../../policies/authzen-todo/todo.xml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("todo.xml", string(policy))
	write("broken.xml.txt", "")
	write("users.json", `{"u1": {"email": "u1@x"}}`)
	tests := []struct {
		name, config string
		args         []string
		msg          string
	}{
		{"plaintext on all interfaces", "listen: {http: ':8181'}\ninsecure_plaintext: true\npolicies: [todo.xml]\n", nil, "insecure plaintext is only allowed on loopback"},
		{"plaintext on a public address from the flag", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\npolicies: [todo.xml]\n", []string{"--grpc", "0.0.0.0:0"}, "insecure plaintext is only allowed on loopback"},
		{"no tls", "listen: {http: 127.0.0.1:0}\npolicies: [todo.xml]\n", nil, "tls: required"},
		{"tls and plaintext", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\ntls: {cert: a.pem, key: b.pem}\npolicies: [todo.xml]\n", nil, "choose one"},
		{"bundle without keys", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\nbundle: {nats: 'nats://127.0.0.1:4222', service: todo}\n", nil, "trusted_keys are required"},
		{"bundle with a missing key file", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\nbundle: {nats: 'nats://127.0.0.1:4222', service: todo, trusted_keys: keys.json}\n", nil, "bundle.trusted_keys"},
		{"misspelt key", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\npolicy: [todo.xml]\n", nil, "field policy not found"},
		{"no policies", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\n", nil, "policies: give policy files"},
		{"missing policy file", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\npolicies: [nope.xml]\n", nil, "nope.xml"},
		{"unknown pip type", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\npolicies: [todo.xml]\npips: [{type: ldap}]\n", nil, `unknown type "ldap"`},
		{"bad pip category", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\npolicies: [todo.xml]\npips: [{type: json-file, file: users.json, key: {category: nowhere, attribute: id}}]\n", nil, "unknown attribute category"},
		{"missing pip file", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\npolicies: [todo.xml]\npips: [{type: json-file, file: gone.json, key: {category: subject, attribute: id}}]\n", nil, "gone.json"},
		{"missing tls files", "listen: {http: 127.0.0.1:0}\ntls: {cert: a.pem, key: b.pem}\npolicies: [todo.xml]\n", nil, "a.pem"},
		{"revocation without client_ca", "listen: {http: 127.0.0.1:0}\ntls: {cert: a.pem, key: b.pem, revocation: {nats: 'nats://127.0.0.1:1'}}\npolicies: [todo.xml]\n", nil, "tls.revocation: needs tls.client_ca"},
		{"revocation without a source", "listen: {http: 127.0.0.1:0}\ntls: {cert: a.pem, key: b.pem, client_ca: c.pem, revocation: {subject: x}}\npolicies: [todo.xml]\n", nil, "give nats, crl_url or both"},
		{"bundle over tls:// without a client certificate", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\nbundle: {nats: 'tls://127.0.0.1:4222', service: todo, trusted_keys: keys.json}\n", nil, "bundle.nats: a tls:// server needs a client certificate"},
		{"bundle.tls on a plaintext url", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\nbundle: {nats: 'nats://127.0.0.1:4222', service: todo, trusted_keys: keys.json, tls: {cert: a.pem, key: b.pem, ca: c.pem}}\n", nil, "bundle.tls: given, but bundle.nats"},
		{"bundle.tls without ca", "listen: {http: 127.0.0.1:0}\ninsecure_plaintext: true\nbundle: {nats: 'tls://127.0.0.1:4222', service: todo, trusted_keys: keys.json, tls: {cert: a.pem, key: b.pem}}\n", nil, "bundle.tls: cert, key and ca are required"},
		{"decision log over tls:// with server-only tls", "listen: {http: 127.0.0.1:0}\ntls: {cert: a.pem, key: b.pem}\npolicies: [todo.xml]\ndecision_log: {nats: 'tls://127.0.0.1:4222'}\n", nil, "decision_log.nats: a tls:// server needs a client certificate"},
		{"misspelt revocation key", "listen: {http: 127.0.0.1:0}\ntls: {cert: a.pem, key: b.pem, client_ca: c.pem, revocation: {crl: x}}\npolicies: [todo.xml]\n", nil, "field crl not found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := write("pdp.yaml", tc.config)
			var stderr bytes.Buffer
			env := &cliEnv{stdin: strings.NewReader(""), stdout: &bytes.Buffer{}, stderr: &stderr}
			code := run(context.Background(), env, append([]string{"pdp", "serve", "--config", cfg}, tc.args...))
			if code != 2 {
				t.Fatalf("exit %d, want 2: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.msg) {
				t.Fatalf("stderr %q does not contain %q", stderr.String(), tc.msg)
			}
			if strings.Contains(stderr.String(), "listening") {
				t.Fatal("served despite the error")
			}
		})
	}
	var stderr bytes.Buffer
	if code := run(context.Background(), &cliEnv{stderr: &stderr, stdout: &bytes.Buffer{}}, []string{"pdp", "serve"}); code != 2 || !strings.Contains(stderr.String(), "usage: verdict pdp serve --config FILE") {
		t.Fatalf("no --config: exit %d: %s", code, stderr.String())
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestPDPServeOptionsFromConfig checks the configuration's extensions of
// contract 2: limits, strict field checking and the advertised base URL.
func TestPDPServeOptionsFromConfig(t *testing.T) {
	dir := t.TempDir()
	abs, err := filepath.Abs("../../policies/authzen-todo")
	if err != nil {
		t.Fatal(err)
	}
	cfg := `listen: {http: 127.0.0.1:0}
insecure_plaintext: true
policies: ` + abs + `
reject_unknown_fields: true
base_url: https://pdp.example.com
limits: {max_batch: 2, max_request_bytes: 4096, request_timeout: 2s}
`
	if err := os.WriteFile(filepath.Join(dir, "pdp.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s := serveCommand(t, "--config", filepath.Join(dir, "pdp.yaml"))
	base := "http://" + s.httpAddr
	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	one := `"subject":{"type":"user","id":"u"},"action":{"name":"can_read_todos"},"resource":{"type":"todo","id":"1"}`
	if code, body := post("/access/v1/evaluation", `{`+one+`}`); code != 200 || !strings.Contains(body, `"decision":true`) {
		t.Fatalf("plain evaluation: %d %s", code, body)
	}
	if code, body := post("/access/v1/evaluation", `{`+one+`,"extra":1}`); code != 400 || !strings.Contains(body, `unknown field \"extra\"`) {
		t.Fatalf("unknown field: %d %s", code, body)
	}
	if code, body := post("/access/v1/evaluations", `{`+one+`,"evaluations":[{},{},{}]}`); code != 400 || !strings.Contains(body, "limit of 2") {
		t.Fatalf("batch limit: %d %s", code, body)
	}
	if code, _ := post("/access/v1/evaluation", `{`+one+`,"context":{"pad":"`+strings.Repeat("x", 5000)+`"}}`); code != 413 {
		t.Fatalf("body limit: %d", code)
	}
	resp, err := http.Get(base + "/.well-known/authzen-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || meta["access_evaluation_endpoint"] != "https://pdp.example.com/access/v1/evaluation" {
		t.Fatalf("metadata: %v %v", meta, err)
	}
}

// joinService gives a new PDP instance its certificate as an operator
// would: a join token from the platform's CA (`verdict ca token create
// --config`), redeemed with `verdict ca bootstrap` pinning the root by
// fingerprint. The certificate also names 127.0.0.1, where the PDP
// serves. It returns the directory holding SERVICE.pem,
// SERVICE-key.pem and root.pem.
func joinService(t *testing.T, p *upPlatform, service string) string {
	t.Helper()
	code, out, errOut := p.cli(t, "ca", "token", "create", "--service", service, "--host", "127.0.0.1", "--output", "json")
	if code != 0 {
		t.Fatalf("ca token create: exit %d %s %s", code, out, errOut)
	}
	var tok struct {
		Token       string `json:"token"`
		Fingerprint string `json:"root_fingerprint"`
		URL         string `json:"ca_url"`
	}
	decodeJSON(t, out, &tok)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr},
		[]string{"ca", "bootstrap", "--url", tok.URL, "--token", tok.Token, "--fingerprint", tok.Fingerprint,
			"--service", service, "--host", "127.0.0.1", "--out", dir}); code != 0 {
		t.Fatalf("ca bootstrap: exit %d %s %s", code, stdout.String(), stderr.String())
	}
	return dir
}

// bundlePDPConfig writes a pdp serve configuration following service's
// bundles from the platform's NATS over mutual TLS with the certificate in
// certDir (issued for certService), logging decisions to the platform's
// audit collector.
func bundlePDPConfig(t *testing.T, p *upPlatform, certDir, certService, service, wait string) string {
	t.Helper()
	users, err := filepath.Abs("../../policies/authzen-todo/users.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "pdp.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `listen: {http: 127.0.0.1:0}
tls:
  cert: %[1]s/%[2]s.pem
  key: %[1]s/%[2]s-key.pem
  client_ca: %[1]s/root.pem
bundle:
  nats: %[3]s
  service: %[4]s
  trusted_keys: %[5]s
  wait: %[6]s
decision_log:
  nats: %[3]s
  instance: pdp-serve-mtls-test
  spool: spool
pips:
  - type: json-file
    file: %[7]s
    key: {category: subject, attribute: id}
`, certDir, certService, p.endpoints["nats"], service, filepath.Join(p.dir, "keys", "trusted-keys.json"), wait, users), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestPDPServeFollowsBundles runs `verdict pdp serve` in bundle mode
// against `verdict up` with mutual TLS everywhere: the PDP joins with a
// certificate the platform's CA issued for its service (join token +
// bootstrap), takes that service's signed bundle from NATS over tls://,
// decides with it, and its decisions reach the audit collector. A PDP
// whose certificate names another service is refused that service's
// bundles by NATS, and says so.
func TestPDPServeFollowsBundles(t *testing.T) {
	t.Parallel()
	up := startUp(t)
	if !strings.HasPrefix(up.endpoints["nats"], "tls://") {
		t.Fatalf("nats endpoint %q is not tls://", up.endpoints["nats"])
	}
	certs := joinService(t, up, "authzen-todo")
	cfg := bundlePDPConfig(t, up, certs, "authzen-todo", "authzen-todo", "30s")
	s := serveCommand(t, "--config", cfg)

	platform, err := loadPlatformConfig(up.config)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := platform.httpClient()
	if err != nil {
		t.Fatal(err)
	}
	for action, want := range map[string]string{"can_delete_todo": `"decision":true`, "can_create_todo": `"decision":true`} {
		body := `{"subject":{"type":"user","id":"CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},"action":{"name":"` + action + `"},"resource":{"type":"todo","id":"1","properties":{"ownerID":"x"}}}`
		resp, err := hc.Post("https://"+s.httpAddr+"/access/v1/evaluation", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(got), want) {
			t.Fatalf("%s: %s, want %s", action, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(cfg), ".verdict-bundles")); err != nil {
		t.Fatalf("no last-known-good cache: %v", err)
	}
	// The decisions reach the audit collector, published by this PDP over
	// its own mTLS connection.
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, out, errOut := up.cli(t, "audit", "query", "--service", "authzen-todo", "--action", "can_delete_todo", "--output", "json")
		if code != 0 {
			t.Fatalf("audit query: exit %d %s %s", code, out, errOut)
		}
		if strings.Contains(out, "pdp-serve-mtls-test") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the decision of pdp serve never reached the audit collector: %s\npdp serve: %s", out, s.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if strings.Contains(s.stderr.String(), "Permissions Violation") {
		t.Errorf("pdp serve was refused by NATS:\n%s", s.stderr.String())
	}

	// The authzen-todo PDP may not follow the medical service's bundles.
	other := bundlePDPConfig(t, up, certs, "authzen-todo", "medical", "3s")
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	code := run(t.Context(), &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: stderr}, []string{"pdp", "serve", "--config", other})
	if code == 0 {
		t.Fatalf("pdp serve followed another service's bundles: %s", stderr.String())
	}
	for _, want := range []string{"no active bundle for medical", "the NATS server refused spiffe://verdict.local/service/authzen-todo",
		"Permissions Violation", `use a certificate issued for service "medical"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the refusal does not say %q:\n%s", want, stderr.String())
		}
	}
}
