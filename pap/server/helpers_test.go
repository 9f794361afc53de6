package server_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/verdict-authz/verdict/pap/publish"
	papserver "github.com/verdict-authz/verdict/pap/server"
	"github.com/verdict-authz/verdict/pap/store/sqlite"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// pap is a running PAP on real servers: NATS, SQLite, HTTP and gRPC
// listeners, each test on its own stream, bucket and subject prefix.
type pap struct {
	t        *testing.T
	url      string
	nc       *nats.Conn
	key      *bundle.SigningKey
	prefix   string
	stream   string
	client   verdictv1connect.PolicyAdminServiceClient
	grpc     verdictv1.PolicyAdminServiceClient
	httpAddr string
}

func startPAP(t *testing.T, opts ...papserver.Option) *pap {
	t.Helper()
	var r [6]byte
	_, _ = rand.Read(r[:])
	id := hex.EncodeToString(r[:])
	p := &pap{t: t, url: natstest.URL(t), prefix: "t" + id, stream: "T_" + strings.ToUpper(id)}
	bucket := "t-" + id
	p.nc = p.connect()
	t.Cleanup(func() {
		js, _ := jetstream.New(p.nc)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, p.stream)
		_ = js.DeleteObjectStore(ctx, bucket)
	})
	var err error
	if p.key, err = bundle.GenerateSigningKey(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pap.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pub, err := publish.New(ctx, p.nc, p.key, publish.WithSubjectPrefix(p.prefix), publish.WithStream(p.stream), publish.WithBucket(bucket))
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := papserver.NewFleet(p.nc, pub.Subjects())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fleet.Close() })
	base := []papserver.Option{papserver.WithInsecurePlaintext(), papserver.WithFleet(fleet)}
	srv, err := papserver.New(st, pub, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	grpcLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(serveCtx, httpLn, grpcLn) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	p.httpAddr = httpLn.Addr().String()
	p.client = verdictv1connect.NewPolicyAdminServiceClient(http.DefaultClient, "http://"+p.httpAddr)
	conn, err := grpc.NewClient(grpcLn.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	p.grpc = verdictv1.NewPolicyAdminServiceClient(conn)
	return p
}

func (p *pap) connect() *nats.Conn {
	p.t.Helper()
	nc, err := nats.Connect(p.url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(nc.Close)
	return nc
}

// pdp starts a PDP source for service trusting the PAP's key (or keys,
// when given), reporting heartbeats every 100 ms.
func (p *pap) pdp(service, instance string, keys ...bundle.PublicKey) *bundlesource.Source {
	p.t.Helper()
	if len(keys) == 0 {
		keys = []bundle.PublicKey{p.key.PublicKey()}
	}
	trust, err := bundle.NewTrustStore(keys)
	if err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src, err := bundlesource.New(ctx, p.connect(), pdp.New(),
		bundlesource.WithService(service), bundlesource.WithTrustStore(trust), bundlesource.WithInstance(instance),
		bundlesource.WithSubjectPrefix(p.prefix), bundlesource.WithStream(p.stream),
		bundlesource.WithHeartbeatInterval(100*time.Millisecond), bundlesource.WithRetryBackoff(100*time.Millisecond))
	if err != nil {
		p.t.Fatalf("bundlesource.New: %v", err)
	}
	p.t.Cleanup(func() { src.Close() })
	return src
}

// policy is a YAML policy with the given id and rule effect.
func policy(id, effect string) []byte {
	return []byte("policy: " + id + "\ncombining: deny-unless-permit\nrules:\n  - id: r1\n    effect: " + effect + "\n")
}

func sources(kv ...string) []*verdictv1.PolicySource {
	var out []*verdictv1.PolicySource
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, &verdictv1.PolicySource{Path: kv[i], Content: []byte(kv[i+1])})
	}
	return out
}

func waitRevision(t testing.TB, src *bundlesource.Source, rev int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := src.WaitForRevision(ctx, uint64(rev)); err != nil {
		t.Fatalf("waiting for revision %d (active %d, last error %v): %v", rev, src.Revision(), src.LastError(), err)
	}
}

// newBareServer is a PAP server on its own store and stream, not serving.
func newBareServer(t *testing.T, opts ...papserver.Option) *papserver.Server {
	t.Helper()
	var r [6]byte
	_, _ = rand.Read(r[:])
	id := hex.EncodeToString(r[:])
	nc, err := nats.Connect(natstest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	key, _ := bundle.GenerateSigningKey()
	ctx := context.Background()
	stream, bucket := "T_"+strings.ToUpper(id), "t-"+id
	pub, err := publish.New(ctx, nc, key, publish.WithSubjectPrefix("t"+id), publish.WithStream(stream), publish.WithBucket(bucket))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		js, _ := jetstream.New(nc)
		_ = js.DeleteStream(ctx, stream)
		_ = js.DeleteObjectStore(ctx, bucket)
	})
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pap.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := papserver.New(st, pub, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return srv
}
