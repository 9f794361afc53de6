package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pap/publish"
	papserver "github.com/verdict-authz/verdict/pap/server"
	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pap/store/postgres"
	"github.com/verdict-authz/verdict/pap/store/sqlite"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// uniqueID names one test's streams, buckets, prefixes and schemas.
func uniqueID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// testStore returns a PostgreSQL store on a schema of its own when
// VERDICT_TEST_POSTGRES_DSN is set, a SQLite file otherwise.
func testStore(t testing.TB, sqlitePath string) store.Store {
	t.Helper()
	ctx := context.Background()
	if dsn := os.Getenv("VERDICT_TEST_POSTGRES_DSN"); dsn != "" {
		schema := "integration_" + uniqueID()
		st, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			st.Close()
			conn, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
				return
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
		})
		return st
	}
	st, err := sqlite.Open(ctx, sqlitePath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// dial returns a client that reconnects forever, quickly.
func dial(t testing.TB, url, name string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.Name(name), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond),
		nats.RetryOnFailedConnect(true), nats.ReconnectBufSize(64<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// namespace is one test's corner of a NATS server.
type namespace struct {
	prefix, stream, bucket string
}

func newNamespace(t testing.TB, url string) namespace {
	id := uniqueID()
	ns := namespace{prefix: "it" + id, stream: "IT_" + strings.ToUpper(id), bucket: "it-" + id}
	t.Cleanup(func() {
		nc, err := nats.Connect(url, nats.MaxReconnects(0))
		if err != nil {
			return
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, ns.stream)
		_ = js.DeleteObjectStore(ctx, ns.bucket)
	})
	return ns
}

// testPAP is a PAP (publisher, fleet, admin API) that can be killed and
// started again on the same store and address.
type testPAP struct {
	t      testing.TB
	url    string
	ns     namespace
	key    *bundle.SigningKey
	st     store.Store
	addr   string
	client verdictv1connect.PolicyAdminServiceClient

	// crash, when set, makes publishing fail as if the PAP died between
	// storing a revision and publishing it.
	crash atomic.Bool

	mu   sync.Mutex
	stop func()
}

func startPAP(t testing.TB, url string, st store.Store) *testPAP {
	t.Helper()
	key, err := bundle.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	p := &testPAP{t: t, url: url, ns: newNamespace(t, url), key: key, st: st, addr: "127.0.0.1:0"}
	p.start()
	t.Cleanup(p.kill)
	p.client = verdictv1connect.NewPolicyAdminServiceClient(http.DefaultClient, "http://"+p.addr)
	return p
}

// crashable wraps a publisher with the crash switch.
type crashable struct {
	pub   *publish.Publisher
	crash *atomic.Bool
}

func (c crashable) Publish(ctx context.Context, rev store.Revision) (publish.Result, error) {
	if c.crash.Load() {
		return publish.Result{}, errors.New("simulated crash before publishing")
	}
	return c.pub.Publish(ctx, rev)
}

// SigningKeys, Announce and SwitchKey give the PAP's key RPCs the
// publisher's keys.
func (c crashable) SigningKeys(ctx context.Context) (publish.KeyStatus, error) {
	return c.pub.SigningKeys(ctx)
}

func (c crashable) Announce(ctx context.Context, next *bundle.SigningKey, overlap time.Duration) (*bundle.SignedKeySet, error) {
	return c.pub.Announce(ctx, next, overlap)
}

func (c crashable) SwitchKey(next *bundle.SigningKey) error { return c.pub.SwitchKey(next) }

func (c crashable) Reconcile(ctx context.Context, st store.Store) ([]publish.Result, error) {
	if c.crash.Load() {
		return nil, nil
	}
	return c.pub.Reconcile(ctx, st)
}

// start runs the PAP. Its NATS connection may be down: the publisher is
// created once NATS answers.
func (p *testPAP) start() {
	p.t.Helper()
	nc := dial(p.t, p.url, "pap")
	var pub *publish.Publisher
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var err error
		pub, err = publish.New(ctx, nc, p.key, publish.WithSubjectPrefix(p.ns.prefix), publish.WithStream(p.ns.stream), publish.WithBucket(p.ns.bucket))
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("publisher: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fleet, err := papserver.NewFleet(nc, pub.Subjects())
	if err != nil {
		p.t.Fatal(err)
	}
	srv, err := papserver.New(p.st, crashable{pub: pub, crash: &p.crash}, papserver.WithInsecurePlaintext(), papserver.WithFleet(fleet),
		papserver.WithPublishTimeout(2*time.Second), papserver.WithReconcileInterval(300*time.Millisecond))
	if err != nil {
		p.t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; ; i++ {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		if i == 50 {
			p.t.Fatalf("listen %s: %v", p.addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ctx, ln, nil)
	}()
	p.mu.Lock()
	p.stop = func() {
		cancel()
		<-done
		fleet.Close()
		nc.Close()
	}
	p.mu.Unlock()
}

// kill stops the PAP at once; its store stays.
func (p *testPAP) kill() {
	p.mu.Lock()
	stop := p.stop
	p.stop = nil
	p.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// testPDP is an embedded PDP: an engine fed by a bundle source, recording
// every revision it activates.
type testPDP struct {
	src    *bundlesource.Source
	engine *pdp.Engine

	mu      sync.Mutex
	applied []uint64
}

// startPDP starts a PDP of service trusting the PAP's key.
func startPDP(t testing.TB, url string, p *testPAP, service, instance, cache string, opts ...bundlesource.Option) *testPDP {
	t.Helper()
	trust, err := bundle.NewTrustStore([]bundle.PublicKey{p.key.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	d := &testPDP{engine: pdp.New()}
	base := []bundlesource.Option{
		bundlesource.WithService(service), bundlesource.WithTrustStore(trust), bundlesource.WithInstance(instance),
		bundlesource.WithSubjectPrefix(p.ns.prefix), bundlesource.WithStream(p.ns.stream),
		bundlesource.WithHeartbeatInterval(200 * time.Millisecond), bundlesource.WithRetryBackoff(200 * time.Millisecond),
		bundlesource.WithObserver(bundlesource.ObserverFunc(func(m bundle.Manifest) {
			d.mu.Lock()
			d.applied = append(d.applied, m.Revision)
			d.mu.Unlock()
		})),
	}
	if cache != "" {
		base = append(base, bundlesource.WithCacheDir(cache))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src, err := bundlesource.New(ctx, dial(t, url, instance), d.engine, append(base, opts...)...)
	if err != nil {
		t.Fatalf("PDP %s: %v", instance, err)
	}
	t.Cleanup(func() { src.Close() })
	d.src = src
	return d
}

// checkOrder fails unless the PDP applied strictly increasing revisions.
func (d *testPDP) checkOrder(t testing.TB, name string) []uint64 {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := 1; i < len(d.applied); i++ {
		if d.applied[i] <= d.applied[i-1] {
			t.Errorf("PDP %s applied revisions out of order or twice: %v", name, d.applied)
			break
		}
	}
	return append([]uint64(nil), d.applied...)
}

func waitRevision(t testing.TB, d *testPDP, rev int64, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := d.src.WaitForRevision(ctx, uint64(rev)); err != nil {
		t.Fatalf("PDP %s did not reach revision %d (on %d, last error %v): %v", d.src.Instance(), rev, d.src.Revision(), d.src.LastError(), err)
	}
}

// natsProcess is a real nats-server process with JetStream on a file
// store, which a chaos test kills with SIGKILL and starts again on the
// same port and store.
type natsProcess struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// natsBinary finds a nats-server executable: $VERDICT_NATS_SERVER,
// Debian's /usr/sbin/nats-server, one on PATH, or one built from the
// nats-server module this repository requires.
func natsBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("VERDICT_NATS_SERVER"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server"
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p
	}
	bin := filepath.Join(os.TempDir(), "verdict-test-nats-server")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput()
	if err != nil {
		t.Fatalf("no nats-server binary and building one failed: %v\n%s", err, out)
	}
	return bin
}

func startNATSProcess(t testing.TB) *natsProcess {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p := &natsProcess{t: t, bin: natsBinary(t), dir: t.TempDir(), port: port}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *natsProcess) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", p.port) }

func (p *natsProcess) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, "-a", "127.0.0.1", "-p", strconv.Itoa(p.port), "-js", "-sd", p.dir)
	p.cmd.Stdout, p.cmd.Stderr = nil, nil
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("starting %s: %v", p.bin, err)
	}
	p.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { _ = cmd.Wait(); close(done) }(p.cmd, p.done)
	// Ready once a client can reach JetStream.
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		nc, err := nats.Connect(p.url(), nats.MaxReconnects(0), nats.Timeout(500*time.Millisecond))
		if err == nil {
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err = js.AccountInfo(ctx)
			cancel()
			nc.Close()
			if err == nil {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("nats-server on port %d not ready", p.port)
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *natsProcess) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}
