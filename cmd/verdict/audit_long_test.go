package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/audit/sqlstore"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/decisionlog/natspub"
)

// TestAuditCrash is the crash test: decisions stream from a Logger with
// a spool while the real `verdict audit serve` process is SIGKILLed and
// restarted, twice, and NATS itself is down meanwhile. Stored count must
// equal emitted count, without duplicates, the spool must have been used
// and the chain must verify. The long version (make test-long,
// VERDICT_LONG=1) streams 100,000 decisions with NATS down for 30 s; the
// short one (make test) 10,000 with NATS down for 3 s.
func TestAuditCrash(t *testing.T) {
	n, natsDown := 10000, 3*time.Second
	if os.Getenv("VERDICT_LONG") == "1" {
		n, natsDown = 100000, 30*time.Second
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "verdict")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// Our own NATS server, since the test stops it; fixed port so clients
	// reconnect to the restarted one.
	port := freePort(t)
	natsDir := filepath.Join(dir, "nats")
	startNATS := func() *server.Server {
		srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: natsDir, NoLog: true, NoSigs: true})
		if err != nil {
			t.Fatal(err)
		}
		srv.Start()
		if !srv.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats-server not ready")
		}
		return srv
	}
	srv := startNATS()
	t.Cleanup(func() { srv.Shutdown() })
	url := srv.ClientURL()

	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	stream, prefix := "T_LONG_"+strings.ToUpper(id), "t"+id+".decisions"
	cfgPath := filepath.Join(dir, "audit.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, `listen: 127.0.0.1:0
insecure_plaintext: true
nats: {url: %q, stream: %s, subject_prefix: %s, durable: long}
store: {sqlite: audit.db}
signing_key: audit-key.pem
checkpoints: checkpoints.jsonl
`, url, stream, prefix), 0o600); err != nil {
		t.Fatal(err)
	}
	var collectorLog *lockedBuffer
	startCollector := func() *exec.Cmd {
		cmd := exec.Command(bin, "audit", "serve", "--config", cfgPath)
		collectorLog = &lockedBuffer{}
		cmd.Stderr = collectorLog
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	collector := startCollector()
	t.Cleanup(func() { _ = collector.Process.Kill(); _ = collector.Wait() })

	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := natspub.EnsureStream(t.Context(), js, stream, prefix); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	logger, err := decisionlog.New(t.Context(), natspub.New(js), decisionlog.WithSubjectPrefix(prefix),
		decisionlog.WithSpool(filepath.Join(dir, "spool"), 1<<30), decisionlog.WithPublishTimeout(2*time.Second),
		decisionlog.WithRegisterer(reg))
	if err != nil {
		t.Fatal(err)
	}

	st, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(dir, "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	count := func() int64 { c, _ := st.Count(t.Context(), ""); return c }

	emit := func(from, to int) {
		for i := from; i < to; i++ {
			logger.Log(t.Context(), decisionlog.Record{
				DecisionID: fmt.Sprintf("long-%07d", i), Time: time.Now().UTC(), Service: "todo", Revision: 1,
				Request: []pdp.Attribute{{Category: pdp.CategorySubject, ID: "id", Values: []pdp.Value{{Type: "string", Lexical: fmt.Sprintf("u%d", i%100)}}}},
				Effect:  pdp.EffectPermit, Status: pdp.Status{Code: pdp.StatusOK},
			})
			if i%1000 == 0 {
				time.Sleep(5 * time.Millisecond) // a steady stream, not one burst
			}
		}
	}
	waitFor := func(what string, timeout time.Duration, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(timeout); !cond(); time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (stored %d); collector log:\n%s", what, count(), collectorLog.String())
			}
		}
	}

	// Phase 1: stream, SIGKILL the collector mid-stream, restart it.
	emit(0, n*4/10)
	waitFor("collector mid-stream", 2*time.Minute, func() bool { return count() >= int64(n/10) })
	if err := collector.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = collector.Wait()
	t.Logf("collector SIGKILLed with %d stored", count())
	collector = startCollector()

	// Phase 2: NATS down while decisions keep coming: they spool.
	srv.Shutdown()
	srv.WaitForShutdown()
	downUntil := time.Now().Add(natsDown)
	emit(n*4/10, n*7/10)
	time.Sleep(time.Until(downUntil))
	srv = startNATS()
	t.Logf("NATS back; %v records spooled so far", counterValue(t, reg, "verdict_decisionlog_spooled_total"))

	// Phase 3: the rest, another SIGKILL during it.
	emit(n*7/10, n)
	waitFor("collector busy again", 2*time.Minute, func() bool { return count() >= int64(n*6/10) })
	_ = collector.Process.Signal(syscall.SIGKILL)
	_ = collector.Wait()
	collector = startCollector()

	closeCtx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := logger.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	waitFor("every record stored", 5*time.Minute, func() bool { return count() >= int64(n) })
	time.Sleep(3 * time.Second) // redeliveries of killed batches must not add records
	if got := count(); got != int64(n) {
		t.Fatalf("stored %d, emitted %d", got, n)
	}
	if spooled := counterValue(t, reg, "verdict_decisionlog_spooled_total"); spooled == 0 {
		t.Fatal("nothing was spooled while NATS was down")
	}
	if dropped := counterValue(t, reg, "verdict_decisionlog_dropped_total"); dropped != 0 {
		t.Fatalf("%v records dropped", dropped)
	}
	rep, err := audit.Verify(t.Context(), st, nil, "todo")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact || rep.Last != int64(n) || rep.Checked != int64(n) {
		t.Fatalf("chain: %+v", rep)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
