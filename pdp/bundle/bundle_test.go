package bundle_test

import (
	"bytes"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

func TestRoundTrip(t *testing.T) {
	k := newKey(t)
	c := contents("orders", 7)
	data := archive(t, build(t, c, k))

	b, err := bundle.Open(bytes.NewReader(data), trustOf(t, k), bundle.WithService("orders"), bundle.WithActiveRevision(6))
	if err != nil {
		t.Fatal(err)
	}
	m := b.Manifest()
	if m.Format != bundle.FormatVersion || m.Service != "orders" || m.Revision != 7 ||
		!m.CreatedAt.Equal(created) || m.RootPolicyID != c.RootPolicyID || m.KeyID != k.KeyID() {
		t.Errorf("manifest = %+v", m)
	}
	if !maps.Equal(m.Metadata, c.Metadata) {
		t.Errorf("metadata = %v, want %v", m.Metadata, c.Metadata)
	}
	if got := b.Modules(); !maps.Equal(got, c.Modules) {
		t.Errorf("modules = %v, want %v", got, c.Modules)
	}
	if got := b.Data(); !maps.EqualFunc(got, c.Data, bytes.Equal) {
		t.Errorf("data = %q, want %q", got, c.Data)
	}
	if got := b.Sources(); !maps.EqualFunc(got, c.Sources, bytes.Equal) {
		t.Errorf("sources = %q, want %q", got, c.Sources)
	}
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	want := []string{"data/data.json", "rego/verdict/main.rego", "rego/verdict/rules.rego", "source/orders.xml", "source/orders.yaml"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("files = %v, want %v", names, want)
	}
	if !strings.HasPrefix(b.Digest(), "sha256:") || b.Digest() != m.Digest {
		t.Errorf("digest = %q, manifest digest %q", b.Digest(), m.Digest)
	}
	// What was read serializes back to the very same bytes.
	if again := archive(t, b); !bytes.Equal(again, data) {
		t.Error("re-encoding a read bundle changed its bytes")
	}
}

func TestLayout(t *testing.T) {
	es := entries(t, archive(t, build(t, contents("orders", 1), newKey(t))))
	var names []string
	for _, e := range es {
		names = append(names, e.hdr.Name)
		if e.hdr.Mode != 0o644 || e.hdr.ModTime.Unix() != 0 || e.hdr.Uid != 0 || e.hdr.Gid != 0 || e.hdr.Uname != "" {
			t.Errorf("%s: header %+v is not normalized", e.hdr.Name, e.hdr)
		}
	}
	want := []string{"manifest.json", "manifest.sig", "data/data.json", "rego/verdict/main.rego",
		"rego/verdict/rules.rego", "source/orders.xml", "source/orders.yaml"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("entries = %v, want %v", names, want)
	}
}

func TestDeterministic(t *testing.T) {
	k := newKey(t)
	c1 := contents("orders", 3)
	// The same content assembled in another order, from other slices.
	c2 := contents("orders", 3)
	c2.Modules = map[string]string{}
	for _, p := range []string{"verdict/rules.rego", "verdict/main.rego"} {
		c2.Modules[p] = c1.Modules[p]
	}
	c2.Data = map[string][]byte{"data.json": append([]byte(nil), c1.Data["data.json"]...)}
	c2.CreatedAt = created.In(time.FixedZone("CET", 3600))

	a1, a2 := archive(t, build(t, c1, k)), archive(t, build(t, c2, k))
	if !bytes.Equal(a1, a2) {
		t.Error("same content and key gave different archives")
	}
	b1, b2 := build(t, c1, nil), build(t, c2, nil)
	if b1.Digest() != b2.Digest() {
		t.Errorf("digests differ: %s vs %s", b1.Digest(), b2.Digest())
	}

	// Revision, time, metadata and signer do not change the content digest.
	c3 := contents("orders", 4)
	c3.CreatedAt = created.Add(time.Hour)
	c3.Metadata = nil
	b3 := build(t, c3, newKey(t))
	if b3.Digest() != b1.Digest() {
		t.Errorf("digest depends on more than the files: %s vs %s", b3.Digest(), b1.Digest())
	}

	// Any change to a file, or to a name, changes it.
	c4 := contents("orders", 3)
	c4.Modules["verdict/main.rego"] += "\n"
	c5 := contents("orders", 3)
	c5.Sources["orders2.xml"] = c5.Sources["orders.xml"]
	delete(c5.Sources, "orders.xml")
	for _, c := range []bundle.Contents{c4, c5} {
		if d := build(t, c, nil).Digest(); d == b1.Digest() {
			t.Errorf("changed content kept digest %s", d)
		}
	}
}

func TestImmutable(t *testing.T) {
	c := contents("orders", 1)
	b := build(t, c, nil)
	digest := b.Digest()

	c.Data["data.json"][0] = '['
	c.Modules["verdict/main.rego"] = "package evil"
	b.Data()["data.json"][0] = '['
	b.Sources()["orders.xml"][0] = 'X'
	m := b.Manifest()
	m.Files[0].SHA256 = strings.Repeat("0", 64)
	m.Metadata["author"] = "mallory"

	if got := b.Data()["data.json"][0]; got != '{' {
		t.Errorf("data changed through a copy: %q", got)
	}
	if got := b.Sources()["orders.xml"][0]; got != '<' {
		t.Errorf("source changed through a copy: %q", got)
	}
	if got := b.Modules()["verdict/main.rego"]; strings.Contains(got, "evil") {
		t.Error("module changed through the contents")
	}
	m2 := b.Manifest()
	if m2.Files[0].SHA256 == m.Files[0].SHA256 || m2.Metadata["author"] != "alice" || b.Digest() != digest {
		t.Error("manifest changed through a copy")
	}
	if _, err := bundle.Read(bytes.NewReader(archive(t, b))); err != nil {
		t.Fatalf("bundle no longer consistent: %v", err)
	}
}

func TestSignDoesNotModify(t *testing.T) {
	b := build(t, contents("orders", 1), nil)
	if _, err := b.Sign(newKey(t)); err != nil {
		t.Fatal(err)
	}
	if b.Manifest().KeyID != "" {
		t.Error("Sign changed the unsigned bundle")
	}
	if _, err := b.Sign(nil); err == nil {
		t.Error("Sign(nil) succeeded")
	}
}

func TestResign(t *testing.T) {
	a, bk := newKey(t), newKey(t)
	b := build(t, contents("orders", 1), a)
	b, err := b.Sign(bk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bundle.Open(bytes.NewReader(archive(t, b)), trustOf(t, bk)); err != nil {
		t.Fatalf("re-signed bundle: %v", err)
	}
	_, err = bundle.Open(bytes.NewReader(archive(t, b)), trustOf(t, a))
	wantErr(t, err, bundle.ErrUnknownKey)
}

func TestNewRefusesInvalid(t *testing.T) {
	tests := []struct {
		name string
		edit func(*bundle.Contents)
	}{
		{"uppercase service", func(c *bundle.Contents) { c.Service = "Orders" }},
		{"leading hyphen", func(c *bundle.Contents) { c.Service = "-orders" }},
		{"service with dot", func(c *bundle.Contents) { c.Service = "orders.v1" }},
		{"long service", func(c *bundle.Contents) { c.Service = strings.Repeat("a", 64) }},
		{"empty service", func(c *bundle.Contents) { c.Service = "" }},
		{"revision 0", func(c *bundle.Contents) { c.Revision = 0 }},
		{"no time", func(c *bundle.Contents) { c.CreatedAt = time.Time{} }},
		{"time beyond JSON", func(c *bundle.Contents) { c.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"no root", func(c *bundle.Contents) { c.RootPolicyID = "" }},
		{"no modules", func(c *bundle.Contents) { c.Modules = nil }},
		{"parent path", func(c *bundle.Contents) { c.Modules["../escape.rego"] = "package x" }},
		{"absolute path", func(c *bundle.Contents) { c.Modules["/etc/x.rego"] = "package x" }},
		{"dot element", func(c *bundle.Contents) { c.Sources["./a.xml"] = nil }},
		{"empty element", func(c *bundle.Contents) { c.Sources["a//b.xml"] = nil }},
		{"backslash", func(c *bundle.Contents) { c.Sources[`..\a.xml`] = nil }},
		{"control char", func(c *bundle.Contents) { c.Sources["a\nb.xml"] = nil }},
		{"long path", func(c *bundle.Contents) { c.Sources[strings.Repeat("a", 257)] = nil }},
		{"empty path", func(c *bundle.Contents) { c.Sources[""] = nil }},
		{"module without .rego", func(c *bundle.Contents) { c.Modules["main.txt"] = "package x" }},
		{"data without .json", func(c *bundle.Contents) { c.Data["data.yaml"] = []byte("{}") }},
		{"invalid JSON", func(c *bundle.Contents) { c.Data["data.json"] = []byte("{") }},
		{"two JSON values", func(c *bundle.Contents) { c.Data["data.json"] = []byte("{} {}") }},
		{"module not UTF-8", func(c *bundle.Contents) { c.Modules["bad.rego"] = "package \xff" }},
		{"empty metadata key", func(c *bundle.Contents) { c.Metadata[""] = "x" }},
		{"metadata not UTF-8", func(c *bundle.Contents) { c.Metadata["x"] = "\xff" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := contents("orders", 1)
			tt.edit(&c)
			_, err := bundle.New(c)
			wantErr(t, err, bundle.ErrInvalid)
		})
	}
}

func TestValidateServiceName(t *testing.T) {
	for _, ok := range []string{"a", "0", "orders", "a-b-c", "0-", strings.Repeat("z", 63)} {
		if err := bundle.ValidateServiceName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", "A", "a_b", "a.b", "a b", "ä", "a*", "a>", strings.Repeat("z", 64)} {
		wantErr(t, bundle.ValidateServiceName(bad), bundle.ErrInvalid)
	}
}

func TestMaxSizeIsExact(t *testing.T) {
	k := newKey(t)
	c := contents("orders", 1)
	b := build(t, c, k)
	data := archive(t, b)
	var tarSize int64
	for _, e := range entries(t, data) {
		tarSize += 512 + (int64(len(e.body))+511)/512*512
	}
	tarSize += 1024 // end-of-archive marker

	if _, err := bundle.New(c, bundle.WithMaxSize(tarSize)); err != nil {
		t.Errorf("New at the exact size: %v", err)
	}
	_, err := bundle.New(c, bundle.WithMaxSize(tarSize-1))
	wantErr(t, err, bundle.ErrTooLarge)

	if _, err := bundle.Open(bytes.NewReader(data), trustOf(t, k), bundle.WithMaxSize(tarSize)); err != nil {
		t.Errorf("Open at the exact size: %v", err)
	}
	_, err = bundle.Open(bytes.NewReader(data), trustOf(t, k), bundle.WithMaxSize(tarSize-1))
	wantErr(t, err, bundle.ErrTooLarge)
}

func TestNewTooLarge(t *testing.T) {
	c := contents("orders", 1)
	c.Sources["big.xml"] = bytes.Repeat([]byte("x"), 1<<20)
	_, err := bundle.New(c, bundle.WithMaxSize(1<<20))
	wantErr(t, err, bundle.ErrTooLarge)
	if _, err := bundle.New(c, bundle.WithMaxSize(2<<20)); err != nil {
		t.Fatal(err)
	}
}
