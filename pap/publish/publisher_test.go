package publish_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pap/store/sqlite"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
)

func TestPublishReachesPDP(t *testing.T) {
	e := newEnv(t)
	p := e.publisher(publish.WithHistory(3))
	ctx := context.Background()
	res, err := p.Publish(ctx, revision("orders", 1, "P", 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped || res.Sequence == 0 || res.Object != "" || res.Revision != 1 {
		t.Fatalf("result = %+v", res)
	}
	src, engine := e.source("orders", e.key.PublicKey())
	if src.Digest() != res.Digest {
		t.Fatalf("PDP digest %s, published %s", src.Digest(), res.Digest)
	}
	if _, err := p.Publish(ctx, revision("orders", 2, "D", 0)); err != nil {
		t.Fatal(err)
	}
	waitRevision(t, src, 2)
	d, err := engine.Decide(ctx, &pdp.Request{})
	if err != nil || d.Effect != pdp.EffectDeny {
		t.Fatalf("decision = %+v, %v; want Deny", d, err)
	}

	// The stream keeps a bounded history per subject.
	js, _ := jetstream.New(e.nc)
	st, err := js.Stream(ctx, e.stream)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().Config.MaxMsgsPerSubject; got != 3 {
		t.Fatalf("MaxMsgsPerSubject = %d, want 3", got)
	}
	for n := int64(3); n <= 6; n++ {
		if _, err := p.Publish(ctx, revision("orders", n, "P", 0)); err != nil {
			t.Fatal(err)
		}
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(p.Subjects().Bundle("orders")))
	if err != nil {
		t.Fatal(err)
	}
	if got := info.State.Subjects[p.Subjects().Bundle("orders")]; got != 3 {
		t.Fatalf("messages kept for the subject = %d, want 3", got)
	}
}

func TestPublishNeverMovesASubjectBack(t *testing.T) {
	e := newEnv(t)
	p := e.publisher()
	ctx := context.Background()
	if _, err := p.Publish(ctx, revision("orders", 3, "P", 0)); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{2, 3} {
		res, err := p.Publish(ctx, revision("orders", n, "D", 0))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Skipped {
			t.Fatalf("publishing revision %d after 3: %+v, want Skipped", n, res)
		}
	}
	if got, err := p.LastPublished(ctx, "orders"); err != nil || got != 3 {
		t.Fatalf("LastPublished = %d, %v; want 3", got, err)
	}
	if got, err := p.LastPublished(ctx, "billing"); err != nil || got != 0 {
		t.Fatalf("LastPublished of an unknown service = %d, %v; want 0", got, err)
	}

	// Two publishers racing on one subject: the subject ends on the
	// highest revision, never on a lower one published late.
	q := e.publisher()
	done := make(chan error, 2)
	go func() {
		var err error
		for n := int64(4); n <= 30 && err == nil; n += 2 {
			_, err = p.Publish(ctx, revision("orders", n, "P", 0))
		}
		done <- err
	}()
	go func() {
		var err error
		for n := int64(5); n <= 31 && err == nil; n += 2 {
			_, err = q.Publish(ctx, revision("orders", n, "P", 0))
		}
		done <- err
	}()
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := p.LastPublished(ctx, "orders"); got != 31 {
		t.Fatalf("LastPublished after the race = %d, want 31", got)
	}
}

func TestLargeBundlesGoThroughTheObjectStore(t *testing.T) {
	e := newEnv(t)
	p := e.publisher(publish.WithInlineLimit(4096), publish.WithHistory(2))
	ctx := context.Background()
	res, err := p.Publish(ctx, revision("orders", 1, "P", 20000))
	if err != nil {
		t.Fatal(err)
	}
	if res.Object == "" {
		t.Fatalf("result = %+v, want an object", res)
	}
	src, _ := e.source("orders", e.key.PublicKey())
	if src.Revision() != 1 || src.Digest() != res.Digest {
		t.Fatalf("PDP on %d %s, want 1 %s", src.Revision(), src.Digest(), res.Digest)
	}
	// Small bundles still travel inline.
	res, err = p.Publish(ctx, revision("orders", 2, "P", 0))
	if err != nil || res.Object != "" {
		t.Fatalf("small bundle: %+v, %v", res, err)
	}
	waitRevision(t, src, 2)
	for n := int64(3); n <= 5; n++ {
		if _, err := p.Publish(ctx, revision("orders", n, "D", 20000)); err != nil {
			t.Fatal(err)
		}
	}
	waitRevision(t, src, 5)

	// Objects of revisions that left the history (2 per subject) are gone.
	js, _ := jetstream.New(e.nc)
	obs, err := js.ObjectStore(ctx, e.bucket)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := obs.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range infos {
		names = append(names, i.Name)
	}
	if len(names) != 2 || names[0] != "orders/4" && names[1] != "orders/4" {
		t.Fatalf("objects = %v, want orders/4 and orders/5", names)
	}
}

func TestRotateWithOverlap(t *testing.T) {
	e := newEnv(t)
	p := e.publisher()
	ctx := context.Background()
	if _, err := p.Publish(ctx, revision("orders", 1, "P", 0)); err != nil {
		t.Fatal(err)
	}
	src, _ := e.source("orders", e.key.PublicKey()) // trusts only the first key

	next, _ := bundle.GenerateSigningKey()
	ks, err := p.Rotate(ctx, next, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if ks.KeySet().Version != 1 || ks.SignerKeyID() != e.key.KeyID() || p.KeyID() != next.KeyID() {
		t.Fatalf("key set v%d signed by %s, publisher key %s", ks.KeySet().Version, ks.SignerKeyID(), p.KeyID())
	}
	if _, err := p.Publish(ctx, revision("orders", 2, "D", 0)); err != nil {
		t.Fatal(err)
	}
	waitRevision(t, src, 2)
	if err := src.LastError(); err != nil {
		t.Fatalf("LastError = %v", err)
	}

	// A restarted PAP continues the key set versions.
	q := e.publisherWith(next)
	third, _ := bundle.GenerateSigningKey()
	ks, err = q.Rotate(ctx, third, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if ks.KeySet().Version != 2 {
		t.Fatalf("second rotation published version %d, want 2", ks.KeySet().Version)
	}
	if _, err := q.Publish(ctx, revision("orders", 3, "P", 0)); err != nil {
		t.Fatal(err)
	}
	waitRevision(t, src, 3)
	// Republishing an old key set is refused before it reaches PDPs.
	old, _ := bundle.SignKeySet(bundle.KeySet{Version: 1, Keys: []bundle.PublicKey{third.PublicKey()}}, third)
	if err := q.PublishKeySet(ctx, old); err == nil {
		t.Fatal("PublishKeySet of an old version succeeded")
	}
}

func TestReconcilePublishesWhatTheStoreHas(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pap.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var revs []store.Revision
	for n := int64(1); n <= 2; n++ {
		r := revision("orders", n, "P", 0)
		got, err := st.Create(ctx, store.Draft{Service: "orders", Parent: n - 1, Content: r.Content, Author: "test"})
		if err != nil {
			t.Fatal(err)
		}
		revs = append(revs, got)
	}
	p := e.publisher()
	if _, err := p.Publish(ctx, revs[0]); err != nil {
		t.Fatal(err)
	}
	// The PAP "crashed" before publishing revision 2.
	out, err := p.Reconcile(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Revision != 2 {
		t.Fatalf("Reconcile = %+v, want revision 2 published", out)
	}
	if out, err = p.Reconcile(ctx, st); err != nil || len(out) != 0 {
		t.Fatalf("second Reconcile = %+v, %v; want nothing", out, err)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	r := revision("orders", 7, "P", 0)
	a, err := publish.Build(r)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := publish.Build(r)
	x, _ := a.MarshalBinary()
	y, _ := b.MarshalBinary()
	if !bytes.Equal(x, y) {
		t.Fatal("building the same revision twice gave different archives")
	}
	m := a.Manifest()
	if m.Revision != 7 || m.Service != "orders" || m.RootPolicyID != "root" || m.Metadata["author"] != "test" || m.Metadata["store_digest"] != r.Digest {
		t.Fatalf("manifest = %+v", m)
	}
	if _, ok := a.Data()[pdp.AttributesDataPath]; !ok {
		t.Fatalf("bundle data = %v, want %s", a.Data(), pdp.AttributesDataPath)
	}
	if string(a.Sources()["root.xml"]) != string(r.Content.Sources[0].Content) {
		t.Fatal("sources not carried")
	}
}

func TestEncodeDataRoundTrip(t *testing.T) {
	in := map[string][]byte{"a.json": []byte(`{"x":1}`), "b/c.json": []byte(`[1,2]`)}
	enc, err := publish.EncodeData(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := publish.DecodeData(enc)
	if err != nil || len(out) != 2 || string(out["a.json"]) != `{"x":1}` || string(out["b/c.json"]) != `[1,2]` {
		t.Fatalf("DecodeData = %q, %v", out, err)
	}
	if _, err := publish.EncodeData(map[string][]byte{"bad": []byte("{")}); err == nil {
		t.Fatal("EncodeData accepted invalid JSON")
	}
	if empty, err := publish.EncodeData(nil); err != nil || empty != nil {
		t.Fatalf("EncodeData(nil) = %q, %v", empty, err)
	}
}

// TestServiceBuckets: with WithServiceBuckets each service's large bundles
// live in its own bucket, which the pointer names, and PDPs follow them.
func TestServiceBuckets(t *testing.T) {
	e := newEnv(t)
	p := e.publisher(publish.WithInlineLimit(4096), publish.WithServiceBuckets())
	ctx := context.Background()
	js, _ := jetstream.New(e.nc)
	t.Cleanup(func() {
		_ = js.DeleteObjectStore(context.Background(), e.bucket+"-orders")
		_ = js.DeleteObjectStore(context.Background(), e.bucket+"-billing")
	})
	for _, svc := range []string{"orders", "billing"} {
		res, err := p.Publish(ctx, revision(svc, 1, "P", 20000))
		if err != nil {
			t.Fatal(err)
		}
		src, _ := e.source(svc, e.key.PublicKey())
		if src.Revision() != 1 || src.Digest() != res.Digest {
			t.Fatalf("%s: PDP on %d %s, want 1 %s", svc, src.Revision(), src.Digest(), res.Digest)
		}
		obs, err := js.ObjectStore(ctx, e.bucket+"-"+svc)
		if err != nil {
			t.Fatalf("%s: no bucket of its own: %v", svc, err)
		}
		infos, err := obs.List(ctx)
		if err != nil || len(infos) != 1 || infos[0].Name != svc+"/1" {
			t.Fatalf("%s: objects %v, %v", svc, infos, err)
		}
	}
	if _, err := js.ObjectStore(ctx, e.bucket); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Fatalf("the shared bucket exists: %v", err)
	}
}
