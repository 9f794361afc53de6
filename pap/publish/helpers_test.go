package publish_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
)

// env is one test's isolated corner of a NATS server: unique subject
// prefix, stream and bucket, deleted when the test ends.
type env struct {
	t      testing.TB
	url    string
	nc     *nats.Conn
	prefix string
	stream string
	bucket string
	key    *bundle.SigningKey
}

func newEnv(t testing.TB) *env {
	t.Helper()
	var r [6]byte
	_, _ = rand.Read(r[:])
	id := hex.EncodeToString(r[:])
	e := &env{
		t:      t,
		url:    natstest.URL(t),
		prefix: "t" + id,
		stream: "T_" + strings.ToUpper(id),
		bucket: "t-" + id,
	}
	e.nc = e.connect()
	var err error
	if e.key, err = bundle.GenerateSigningKey(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		js, err := jetstream.New(e.nc)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteStream(ctx, e.stream)
		_ = js.DeleteObjectStore(ctx, e.bucket)
	})
	return e
}

func (e *env) connect() *nats.Conn {
	e.t.Helper()
	nc, err := nats.Connect(e.url, nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(nc.Close)
	return nc
}

func (e *env) publisher(opts ...publish.Option) *publish.Publisher {
	e.t.Helper()
	return e.publisherWith(e.key, opts...)
}

func (e *env) publisherWith(key *bundle.SigningKey, opts ...publish.Option) *publish.Publisher {
	e.t.Helper()
	base := []publish.Option{publish.WithSubjectPrefix(e.prefix), publish.WithStream(e.stream), publish.WithBucket(e.bucket)}
	p, err := publish.New(context.Background(), e.nc, key, append(base, opts...)...)
	if err != nil {
		e.t.Fatalf("publish.New: %v", err)
	}
	return p
}

// source starts a PDP source trusting keys.
func (e *env) source(service string, keys ...bundle.PublicKey) (*bundlesource.Source, *pdp.Engine) {
	e.t.Helper()
	trust, err := bundle.NewTrustStore(keys)
	if err != nil {
		e.t.Fatal(err)
	}
	engine := pdp.New()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src, err := bundlesource.New(ctx, e.connect(), engine,
		bundlesource.WithService(service), bundlesource.WithTrustStore(trust),
		bundlesource.WithSubjectPrefix(e.prefix), bundlesource.WithStream(e.stream),
		bundlesource.WithRetryBackoff(100*time.Millisecond))
	if err != nil {
		e.t.Fatalf("bundlesource.New: %v", err)
	}
	e.t.Cleanup(func() { src.Close() })
	return src, engine
}

// revision is a stored revision whose policy decides code ("P" or "D"),
// padded with pad bytes of source to make large bundles.
func revision(service string, number int64, code string, pad int) store.Revision {
	data, _ := publish.EncodeData(map[string][]byte{pdp.AttributesDataPath: []byte("[]")})
	src := []byte("<Policy/>" + strings.Repeat(" ", pad))
	if pad > 0 {
		// Random bytes do not compress: the archive really is large.
		noise := make([]byte, pad/2)
		_, _ = rand.Read(noise)
		src = append(src, []byte("<!-- "+hex.EncodeToString(noise)+" -->")...)
	}
	c := store.Content{
		Sources:      []store.Source{{Name: "root.xml", Format: "xacml-xml", Content: src}},
		RootPolicyID: "root",
		Rego:         map[string]string{"verdict/main.rego": "package verdict.main\n\nresult := {\"d\": \"" + code + "\"}\n"},
		Data:         data,
	}
	return store.Revision{
		Summary: store.Summary{Service: service, Number: number, Parent: number - 1, Digest: c.Digest(), Author: "test", CreatedAt: time.Unix(1700000000+number, 0).UTC()},
		Content: c,
	}
}

func waitRevision(t testing.TB, src *bundlesource.Source, rev uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := src.WaitForRevision(ctx, rev); err != nil {
		t.Fatalf("waiting for revision %d (active %d, last error %v): %v", rev, src.Revision(), src.LastError(), err)
	}
}
