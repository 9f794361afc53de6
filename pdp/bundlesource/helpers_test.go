package bundlesource_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
)

// testServer is an in-process nats-server with JetStream on a file store,
// restartable on the same port and store.
type testServer struct {
	t    testing.TB
	opts *server.Options
	srv  *server.Server
}

func startServer(t testing.TB) *testServer {
	t.Helper()
	ts := &testServer{t: t, opts: &server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, MaxPayload: 64 << 10,
	}}
	ts.start()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) start() {
	ts.t.Helper()
	srv, err := server.NewServer(ts.opts)
	if err != nil {
		ts.t.Fatalf("nats-server: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		ts.t.Fatal("nats-server not ready")
	}
	ts.srv = srv
	// Restarts reuse the port the first start was given.
	_, port, _ := net.SplitHostPort(srv.Addr().String())
	ts.opts.Port, _ = strconv.Atoi(port)
}

func (ts *testServer) stop() {
	if ts.srv != nil {
		ts.srv.Shutdown()
		ts.srv.WaitForShutdown()
		ts.srv = nil
	}
}

func (ts *testServer) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", ts.opts.Port) }

// connect returns a client that reconnects forever, as PDPs configure it.
func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond), nats.RetryOnFailedConnect(true))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// fixture publishes bundles the way the PAP does, with the raw JetStream
// API, so that these tests pin the wire contract rather than a publisher.
type fixture struct {
	t        *testing.T
	nc       *nats.Conn
	js       jetstream.JetStream
	key      *bundle.SigningKey
	trust    *bundle.TrustStore
	subjects bundlesource.Subjects
	service  string
}

func newFixture(t *testing.T, ts *testServer) *fixture {
	t.Helper()
	nc := connect(t, ts.url())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, nc: nc, js: js, service: "orders"}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:              bundlesource.DefaultStream,
		Subjects:          []string{f.subjects.Bundles(), f.subjects.Keys()},
		MaxMsgsPerSubject: 5,
		Storage:           jetstream.FileStorage,
	}); err != nil {
		t.Fatal(err)
	}
	f.key = mustKey(t)
	f.trust, err = bundle.NewTrustStore([]bundle.PublicKey{f.key.PublicKey()})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func mustKey(t testing.TB) *bundle.SigningKey {
	t.Helper()
	k, err := bundle.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// module is a minimal policy in the compile contract whose every decision
// has the given code ("P" permit, "D" deny).
func module(code string) string {
	return fmt.Sprintf("package verdict.main\n\nresult := {\"d\": %q}\n", code)
}

// unsigned builds revision rev of service for the allowed action.
func unsigned(t testing.TB, service string, rev uint64, code string) *bundle.Bundle {
	t.Helper()
	b, err := bundle.New(bundle.Contents{
		Service:      service,
		Revision:     rev,
		RootPolicyID: "root",
		CreatedAt:    time.Unix(1700000000, 0),
		Modules:      map[string]string{"verdict/main.rego": module(code)},
		Sources:      map[string][]byte{"root.xml": []byte("<Policy/>")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (f *fixture) signed(rev uint64, code string) []byte {
	f.t.Helper()
	return archive(f.t, sign(f.t, unsigned(f.t, f.service, rev, code), f.key))
}

func sign(t testing.TB, b *bundle.Bundle, k *bundle.SigningKey) *bundle.Bundle {
	t.Helper()
	s, err := b.Sign(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func archive(t testing.TB, b *bundle.Bundle) []byte {
	t.Helper()
	data, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// publish puts a payload on the service's bundle subject.
func (f *fixture) publish(kind string, data []byte) {
	f.t.Helper()
	msg := nats.NewMsg(f.subjects.Bundle(f.service))
	msg.Header.Set(bundlesource.HeaderKind, kind)
	msg.Data = data
	if _, err := f.js.PublishMsg(context.Background(), msg); err != nil {
		f.t.Fatalf("publish: %v", err)
	}
}

func (f *fixture) publishKeySet(ks *bundle.SignedKeySet) {
	f.t.Helper()
	data, err := ks.MarshalBinary()
	if err != nil {
		f.t.Fatal(err)
	}
	msg := nats.NewMsg(f.subjects.Keys())
	msg.Header.Set(bundlesource.HeaderKind, bundlesource.KindKeySet)
	msg.Data = data
	if _, err := f.js.PublishMsg(context.Background(), msg); err != nil {
		f.t.Fatalf("publish key set: %v", err)
	}
}

// source starts a Source for the fixture's service.
func (f *fixture) source(nc *nats.Conn, engine *pdp.Engine, opts ...bundlesource.Option) *bundlesource.Source {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	base := []bundlesource.Option{
		bundlesource.WithService(f.service),
		bundlesource.WithTrustStore(f.trust),
		bundlesource.WithRetryBackoff(200 * time.Millisecond),
	}
	src, err := bundlesource.New(ctx, nc, engine, append(base, opts...)...)
	if err != nil {
		f.t.Fatalf("bundlesource.New: %v", err)
	}
	f.t.Cleanup(func() { src.Close() })
	return src
}

// decide returns the effect and revision of a decision by engine.
func decide(t testing.TB, engine *pdp.Engine) (pdp.Effect, uint64) {
	t.Helper()
	d, err := engine.Decide(context.Background(), &pdp.Request{})
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	return d.Effect, d.Revision
}

func waitRevision(t testing.TB, src *bundlesource.Source, rev uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := src.WaitForRevision(ctx, rev); err != nil {
		t.Fatalf("waiting for revision %d (active %d, last error %v): %v", rev, src.Revision(), src.LastError(), err)
	}
}

// waitError waits until the source reports an error matching target.
func waitError(t testing.TB, src *bundlesource.Source, target error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if err := src.LastError(); errors.Is(err, target) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("last error = %v, want %v", src.LastError(), target)
}

// retar rewrites an archive's entries through edit, keeping everything
// else byte for byte: the tool for tampering with a signed bundle.
func retar(t testing.TB, data []byte, edit func(name string, body []byte) []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		body = edit(hdr.Name, body)
		hdr.Size = int64(len(body))
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// heartbeats collects the heartbeats of a service.
func heartbeats(t testing.TB, nc *nats.Conn, subjects bundlesource.Subjects, service string) <-chan bundlesource.Heartbeat {
	t.Helper()
	ch := make(chan bundlesource.Heartbeat, 1024)
	sub, err := nc.Subscribe(subjects.Status(service, "*"), func(m *nats.Msg) {
		var hb bundlesource.Heartbeat
		if json.Unmarshal(m.Data, &hb) == nil {
			select {
			case ch <- hb:
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ch
}
