package integration

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"connectrpc.com/connect"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// todoSources are the example Todo policies, as `verdict policy push
// policies/authzen-todo` sends them.
func todoSources(t testing.TB, edit string) []*verdictv1.PolicySource {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "policies", "authzen-todo", "todo.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if edit != "" {
		data = bytes.Replace(data, []byte("<Description>AuthZEN Todo interop scenario"), []byte("<Description>AuthZEN Todo interop scenario "+edit), 1)
	}
	return []*verdictv1.PolicySource{{Path: "todo.xml", Content: data}}
}

func push(t testing.TB, p *testPAP, service, edit string) *verdictv1.Revision {
	t.Helper()
	resp, err := p.client.Push(context.Background(), connect.NewRequest(&verdictv1.PushRequest{Service: service, Sources: todoSources(t, edit)}))
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	return resp.Msg.GetRevision()
}

func TestPushConvergesOnEveryPDP(t *testing.T) {
	url := natstest.URL(t)
	p := startPAP(t, url, testStore(t, filepath.Join(t.TempDir(), "pap.db")))
	r1 := push(t, p, "todo", "")
	var pdps []*testPDP
	for i := range 3 {
		pdps = append(pdps, startPDP(t, url, p, "todo", fmt.Sprintf("pdp-%d", i), ""))
	}
	r2 := push(t, p, "todo", "v2")
	for _, d := range pdps {
		waitRevision(t, d, r2.GetNumber(), 10*time.Second)
		if d.src.Digest() != r2.GetDigest() {
			t.Fatalf("PDP digest %s, revision digest %s", d.src.Digest(), r2.GetDigest())
		}
		if got := d.checkOrder(t, d.src.Instance()); len(got) != 2 || got[0] != uint64(r1.GetNumber()) {
			t.Fatalf("applied %v, want [1 2]", got)
		}
		// The engine decides with the new revision.
		dec, err := d.engine.Decide(context.Background(), &pdp.Request{})
		if err != nil || dec.Revision != 2 {
			t.Fatalf("decision %+v, %v", dec, err)
		}
	}
	// The PAP sees all three on the revision.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := p.client.RolloutStatus(context.Background(), connect.NewRequest(&verdictv1.RolloutStatusRequest{Service: "todo"}))
		if err != nil {
			t.Fatal(err)
		}
		if r := st.Msg.GetRollout(); r.GetLiveCount() == 3 && r.GetComplete() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollout = %v", st.Msg.GetRollout())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// attacker publishes on a PDP's subject without going through the PAP.
type attacker struct {
	t       testing.TB
	js      jetstream.JetStream
	subject string
}

func newAttacker(t testing.TB, url string, p *testPAP, service string) *attacker {
	js, err := jetstream.New(dial(t, url, "attacker"))
	if err != nil {
		t.Fatal(err)
	}
	return &attacker{t: t, js: js, subject: bundlesource.Subjects{Prefix: p.ns.prefix}.Bundle(service)}
}

func (a *attacker) publish(data []byte) {
	a.t.Helper()
	msg := nats.NewMsg(a.subject)
	msg.Header.Set(bundlesource.HeaderKind, bundlesource.KindBundle)
	msg.Data = data
	if _, err := a.js.PublishMsg(context.Background(), msg); err != nil {
		a.t.Fatal(err)
	}
}

// bundleOf rebuilds the bundle of a stored revision, signed by key (nil:
// unsigned).
func bundleOf(t testing.TB, p *testPAP, service string, number int64, key *bundle.SigningKey) []byte {
	t.Helper()
	rev, err := p.st.Get(context.Background(), service, number)
	if err != nil {
		t.Fatal(err)
	}
	b, err := publish.Build(rev)
	if err != nil {
		t.Fatal(err)
	}
	if key != nil {
		if b, err = b.Sign(key); err != nil {
			t.Fatal(err)
		}
	}
	data, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// withRevision returns a signed archive whose manifest was edited to claim
// another revision after signing.
func withRevision(t testing.TB, data []byte, rev uint64) []byte {
	t.Helper()
	return editManifest(t, data, func(m *bundle.Manifest) { m.Revision = rev })
}

// editManifest rewrites an archive's manifest after signing, keeping the
// signature.
func editManifest(t testing.TB, data []byte, edit func(*bundle.Manifest)) []byte {
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
		body, _ := io.ReadAll(tr)
		if hdr.Name == "manifest.json" {
			var m bundle.Manifest
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			edit(&m)
			body, _ = json.Marshal(m)
		}
		hdr.Size = int64(len(body))
		_ = tw.WriteHeader(hdr)
		_, _ = tw.Write(body)
	}
	_ = tw.Close()
	_ = zw.Close()
	return out.Bytes()
}

func TestPDPRefusesBadBundlesAndReportsThem(t *testing.T) {
	url := natstest.URL(t)
	p := startPAP(t, url, testStore(t, filepath.Join(t.TempDir(), "pap.db")))
	push(t, p, "todo", "")
	r2 := push(t, p, "todo", "v2")
	d := startPDP(t, url, p, "todo", "victim", "")
	waitRevision(t, d, 2, 10*time.Second)
	a := newAttacker(t, url, p, "todo")
	rogue, _ := bundle.GenerateSigningKey()
	signed := bundleOf(t, p, "todo", 2, p.key)

	cases := []struct {
		name string
		data []byte
		want error
	}{
		{"tampered", withRevision(t, signed, 99), bundle.ErrSignature},
		{"unsigned", withRevision(t, bundleOf(t, p, "todo", 2, nil), 3), bundle.ErrUnsigned},
		// Signed by another key but naming the trusted one as its signer.
		{"wrongly signed", editManifest(t, signedAs(t, p, rogue, 3), func(m *bundle.Manifest) { m.KeyID = p.key.KeyID() }), bundle.ErrSignature},
		{"signed by an untrusted key", signedAs(t, p, rogue, 3), bundle.ErrUnknownKey},
		{"replayed old revision", bundleOf(t, p, "todo", 1, p.key), bundle.ErrStale},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a.publish(tc.data)
			deadline := time.Now().Add(10 * time.Second)
			for !errors.Is(d.src.LastError(), tc.want) {
				if time.Now().After(deadline) {
					t.Fatalf("LastError = %v, want %v", d.src.LastError(), tc.want)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if d.src.Revision() != 2 || d.src.Digest() != r2.GetDigest() {
				t.Fatalf("PDP moved to %d %s", d.src.Revision(), d.src.Digest())
			}
			dec, err := d.engine.Decide(context.Background(), &pdp.Request{})
			if err != nil || dec.Revision != 2 {
				t.Fatalf("PDP no longer decides on revision 2: %+v, %v", dec, err)
			}
			// The PAP's rollout view shows the error from the heartbeat.
			want := d.src.LastError().Error()
			deadline = time.Now().Add(5 * time.Second)
			for {
				st, err := p.client.RolloutStatus(context.Background(), connect.NewRequest(&verdictv1.RolloutStatusRequest{Service: "todo", IncludeInstances: true}))
				if err != nil {
					t.Fatal(err)
				}
				if in := st.Msg.GetRollout().GetInstances(); len(in) == 1 && in[0].GetLastError() == want {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("rollout instances = %v, want last_error %q", st.Msg.GetRollout().GetInstances(), want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	// The next good push clears the error.
	r3 := push(t, p, "todo", "v3")
	waitRevision(t, d, r3.GetNumber(), 10*time.Second)
	if err := d.src.LastError(); err != nil {
		t.Fatalf("LastError after a good push = %v", err)
	}
	d.checkOrder(t, "victim")
}

// signedAs builds a revision-rev bundle of revision 2's content signed by
// key.
func signedAs(t testing.TB, p *testPAP, key *bundle.SigningKey, rev int64) []byte {
	t.Helper()
	stored, err := p.st.Get(context.Background(), "todo", 2)
	if err != nil {
		t.Fatal(err)
	}
	stored.Number = rev
	b, err := publish.Build(stored)
	if err != nil {
		t.Fatal(err)
	}
	b, err = b.Sign(key)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := b.MarshalBinary()
	return data
}

func TestPDPRestartUsesLastKnownGood(t *testing.T) {
	url := natstest.URL(t)
	p := startPAP(t, url, testStore(t, filepath.Join(t.TempDir(), "pap.db")))
	r := push(t, p, "todo", "")
	cache := t.TempDir()
	d := startPDP(t, url, p, "todo", "pdp-lkg", cache)
	waitRevision(t, d, r.GetNumber(), 10*time.Second)
	d.src.Close()

	// Restart with NATS unreachable: a port nothing listens on.
	start := time.Now()
	d2 := startPDP(t, "nats://127.0.0.1:1", p, "todo", "pdp-lkg", cache)
	if d2.src.Revision() != uint64(r.GetNumber()) || d2.src.Digest() != r.GetDigest() {
		t.Fatalf("restarted PDP on %d %s, want %d %s", d2.src.Revision(), d2.src.Digest(), r.GetNumber(), r.GetDigest())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("start from last-known-good took %s", took)
	}
	dec, err := d2.engine.Decide(context.Background(), &pdp.Request{})
	if err != nil || dec.Revision != uint64(r.GetNumber()) {
		t.Fatalf("decision %+v, %v", dec, err)
	}
	if !strings.HasPrefix(d2.src.Digest(), "sha256:") {
		t.Fatal("no digest")
	}
}

func TestLargeBundleThroughObjectStore(t *testing.T) {
	url := natstest.URL(t)
	p := startPAP(t, url, testStore(t, filepath.Join(t.TempDir(), "pap.db")))
	// A push whose archive exceeds one NATS message (1 MiB by default):
	// a test file of random text, which does not compress.
	noise := make([]byte, 1500<<10)
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	srcs := append(todoSources(t, ""), &verdictv1.PolicySource{Path: "padding_test.yaml", Content: []byte("# " + base64.StdEncoding.EncodeToString(noise) + "\n")})
	resp, err := p.client.Push(context.Background(), connect.NewRequest(&verdictv1.PushRequest{Service: "big", Sources: srcs}))
	if err != nil {
		t.Fatal(err)
	}
	rev := resp.Msg.GetRevision()
	d := startPDP(t, url, p, "big", "pdp-big", "")
	waitRevision(t, d, rev.GetNumber(), 20*time.Second)
	if d.src.Digest() != rev.GetDigest() {
		t.Fatalf("digest %s, want %s", d.src.Digest(), rev.GetDigest())
	}
	js, _ := jetstream.New(dial(t, url, "check"))
	obs, err := js.ObjectStore(context.Background(), p.ns.bucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := obs.GetInfo(context.Background(), fmt.Sprintf("big/%d", rev.GetNumber())); err != nil {
		t.Fatalf("the bundle is not in the object store: %v", err)
	}
}
