package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncWriter is a goroutine-safe buffer for the stderr of a running
// `verdict up`.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// upPlatform is a `verdict up` running in-process.
type upPlatform struct {
	dir       string
	config    string
	endpoints map[string]string
	stderr    *syncWriter
}

// startUp runs `verdict up` through run() on a new data directory until
// the test ends, and returns once it printed "ready".
func startUp(t *testing.T, args ...string) *upPlatform {
	t.Helper()
	p, _ := startUpIn(t, t.TempDir(), args...)
	return p
}

// startUpIn runs `verdict up` on dir with extra arguments and returns once
// it printed "ready", with a function that stops it (the test's end does
// too).
func startUpIn(t *testing.T, dir string, args ...string) (*upPlatform, func()) {
	t.Helper()
	pr, pw := io.Pipe()
	stderr := &syncWriter{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &cliEnv{stdin: strings.NewReader(""), stdout: pw, stderr: stderr},
			append([]string{"up", "--data-dir", dir, "--policies", filepath.Join("..", "..", "policies")}, args...))
		pw.Close()
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("verdict up exited %d:\n%s", code, stderr.String())
				}
			case <-time.After(30 * time.Second):
				t.Error("verdict up did not stop within 30s of its context ending")
			}
		})
	}
	t.Cleanup(stop)
	p := &upPlatform{dir: dir, config: filepath.Join(dir, "verdict.yaml"), endpoints: map[string]string{}, stderr: stderr}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("verdict up ended before ready:\n%s", stderr.String())
			}
			if line == "ready" {
				go func() {
					for range lines {
					}
				}()
				return p, stop
			}
			name, url, found := strings.Cut(line, ": ")
			if !found {
				t.Fatalf("unexpected line %q", line)
			}
			p.endpoints[name] = url
		case <-timeout:
			t.Fatalf("verdict up not ready after 60s:\n%s", stderr.String())
		}
	}
}

// cli runs a command against the platform.
func (p *upPlatform) cli(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--config", p.config)
	code = run(context.Background(), &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, args)
	return code, out.String(), errOut.String()
}

func TestPolicyCommandsAgainstVerdictUp(t *testing.T) {
	p := startUp(t)
	for _, name := range []string{"nats", "pap", "pdp-http", "pdp-grpc", "ca", "audit"} {
		if p.endpoints[name] == "" {
			t.Fatalf("no %s line; got %v", name, p.endpoints)
		}
	}
	if !strings.HasPrefix(p.endpoints["nats"], "tls://127.0.0.1:") || !strings.HasPrefix(p.endpoints["pap"], "https://127.0.0.1:") {
		t.Fatalf("endpoints = %v", p.endpoints)
	}
	cfg, err := loadPlatformConfig(p.config)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Endpoints["pdp-grpc"] != p.endpoints["pdp-grpc"] || cfg.TLS == nil {
		t.Fatalf("verdict.yaml = %+v, printed %v", cfg, p.endpoints)
	}

	// The example policies were pushed as revision 1 of authzen-todo.
	code, out, errOut := p.cli(t, "policy", "list", "--service", "authzen-todo", "--output", "json")
	if code != 0 {
		t.Fatalf("list exited %d: %s", code, errOut)
	}
	var revs []map[string]any
	if err := json.Unmarshal([]byte(out), &revs); err != nil {
		t.Fatalf("list output is not a JSON array: %v\n%s", err, out)
	}
	if len(revs) != 1 || revs[0]["number"] != float64(1) || revs[0]["author"] != "spiffe://verdict.local/service/admin" {
		t.Fatalf("revisions = %v", revs)
	}

	// Push an edited copy: prints the revision, waits for the PDP.
	work := t.TempDir()
	todo, err := os.ReadFile(filepath.Join("..", "..", "policies", "authzen-todo", "todo.xml"))
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(todo, []byte("<Description>AuthZEN Todo interop scenario"), []byte("<Description>AuthZEN Todo interop scenario, edited"), 1)
	if err := os.WriteFile(filepath.Join(work, "todo.xml"), edited, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = p.cli(t, "policy", "push", "--service", "authzen-todo", "--message", "edit", work)
	if code != 0 || out != "2\n" || !strings.Contains(errOut, "revision 2 active on 1 of 1 PDPs") {
		t.Fatalf("push: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = p.cli(t, "policy", "status", "--service", "authzen-todo")
	if code != 0 || out != "service authzen-todo revision 2 active on 1 of 1 PDPs\n" {
		t.Fatalf("status: exit %d, %q", code, out)
	}
	code, out, _ = p.cli(t, "policy", "diff", "--service", "authzen-todo", "--from", "1", "--to", "2")
	if code != 0 || !strings.Contains(out, "+  <Description>AuthZEN Todo interop scenario, edited</Description>") {
		t.Fatalf("diff: exit %d\n%s", code, out)
	}

	// A refused push exits 2 naming file and line, and stores nothing.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("policy: urn:bad\ncombining: no-such-algorithm\nrules: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = p.cli(t, "policy", "push", "--service", "authzen-todo", bad)
	if code != 2 || !strings.Contains(errOut, "bad.yaml:1: <Policy>: unknown combining algorithm") {
		t.Fatalf("refused push: exit %d, stderr %q", code, errOut)
	}
	code, out, _ = p.cli(t, "policy", "list", "--service", "authzen-todo", "--output", "json")
	if err := json.Unmarshal([]byte(out), &revs); code != 0 || err != nil || len(revs) != 2 {
		t.Fatalf("after a refused push: exit %d, %d revisions", code, len(revs))
	}

	// Rollback republishes revision 1's content as revision 3.
	code, out, errOut = p.cli(t, "policy", "rollback", "--service", "authzen-todo", "--to", "1", "--output", "json")
	var rb struct {
		Revision revisionJSON `json:"revision"`
		Rollout  rolloutJSON  `json:"rollout"`
	}
	if err := json.Unmarshal([]byte(out), &rb); code != 0 || err != nil || rb.Revision.Number != 3 || rb.Revision.RestoredFrom != 1 || !rb.Rollout.Complete {
		t.Fatalf("rollback: exit %d, %v, %s %s", code, err, out, errOut)
	}
	code, out, _ = p.cli(t, "policy", "get", "--service", "authzen-todo")
	if code != 0 || !strings.Contains(out, "revision 3") || strings.Contains(out, ", edited") {
		t.Fatalf("get: exit %d\n%.300s", code, out)
	}

	// A service nobody runs a PDP for: the push returns at once.
	code, out, errOut = p.cli(t, "policy", "push", "--service", "orders", work)
	if code != 0 || out != "1\n" || !strings.Contains(errOut, "0 PDPs live") {
		t.Fatalf("push without PDPs: exit %d, %q, %q", code, out, errOut)
	}

	// A PDP that never catches up: exit 3 naming it after --timeout. It
	// reports as the orders service, with a certificate for it.
	nc := p.natsAs(t, "orders")
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		hb := []byte(`{"service":"orders","instance":"stuck-pdp","revision":1,"digest":"","last_error":"bundle: bad signature","time":"2025-01-01T00:00:00Z","interval_ms":100}`)
		for {
			_ = nc.Publish("verdict.status.orders.stuck-pdp", hb)
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	code, out, errOut = p.cli(t, "policy", "push", "--service", "orders", "--timeout", "1s", "--message", "again", work)
	if code != 3 || out != "2\n" || !strings.Contains(errOut, "stragglers: stuck-pdp (revision 1: bundle: bad signature)") {
		t.Fatalf("push with a straggler: exit %d, %q, %q", code, out, errOut)
	}

	// Usage errors.
	if code, _, _ := p.cli(t, "policy", "push", work); code != 2 {
		t.Fatalf("push without --service exited %d", code)
	}
	if code, _, errOut := p.cli(t, "policy", "list", "--service", "nosuch"); code != 2 || !strings.Contains(errOut, "not found") {
		t.Fatalf("list of an unknown service: exit %d %q", code, errOut)
	}
}

func TestPlatformConfigPath(t *testing.T) {
	t.Setenv("VERDICT_CONFIG", "")
	if got := platformConfigPath(""); got != filepath.Join("verdict-data", "verdict.yaml") {
		t.Errorf("default = %q", got)
	}
	t.Setenv("VERDICT_CONFIG", "/x/v.yaml")
	if got := platformConfigPath(""); got != "/x/v.yaml" {
		t.Errorf("from the environment = %q", got)
	}
	if got := platformConfigPath("f.yaml"); got != "f.yaml" {
		t.Errorf("flag = %q", got)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut},
		[]string{"policy", "list", "--service", "s", "--config", filepath.Join(t.TempDir(), "missing.yaml")})
	if code != 2 || !strings.Contains(errOut.String(), "verdict up") {
		t.Errorf("missing config: exit %d, %q", code, errOut.String())
	}
}
