package bundle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

// created is the fixed build time of test bundles.
var created = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// contents returns a small but complete bundle content for service svc.
func contents(svc string, rev uint64) bundle.Contents {
	return bundle.Contents{
		Service:      svc,
		Revision:     rev,
		RootPolicyID: "urn:verdict:policyset:root",
		CreatedAt:    created,
		Modules: map[string]string{
			"verdict/main.rego":  "package verdict.main\n\ndefault decision := \"Deny\"\n",
			"verdict/rules.rego": "package verdict.rules\n\npermit if input.action.name == \"GET\"\n",
		},
		Data: map[string][]byte{
			"data.json": []byte(`{"targets":{"GET":["r1"]}}`),
		},
		Sources: map[string][]byte{
			"orders.xml":  []byte("<PolicySet PolicySetId=\"root\"/>"),
			"orders.yaml": []byte("policySet: root\n"),
		},
		Metadata: map[string]string{"author": "alice", "message": "first"},
	}
}

// newKey generates a signing key or fails the test.
func newKey(t testing.TB) *bundle.SigningKey {
	t.Helper()
	k, err := bundle.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// trustOf returns a trust store trusting exactly keys.
func trustOf(t testing.TB, keys ...*bundle.SigningKey) *bundle.TrustStore {
	t.Helper()
	pubs := make([]bundle.PublicKey, len(keys))
	for i, k := range keys {
		pubs[i] = k.PublicKey()
	}
	ts, err := bundle.NewTrustStore(pubs)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// build makes a bundle from c, signed by k unless k is nil.
func build(t testing.TB, c bundle.Contents, k *bundle.SigningKey) *bundle.Bundle {
	t.Helper()
	b, err := bundle.New(c)
	if err != nil {
		t.Fatal(err)
	}
	if k != nil {
		if b, err = b.Sign(k); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// archive returns the archive bytes of b.
func archive(t testing.TB, b *bundle.Bundle) []byte {
	t.Helper()
	data, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// entry is one tar entry of an archive under test.
type entry struct {
	hdr  tar.Header
	body []byte
}

// entries decodes an archive into its tar entries.
func entries(t testing.TB, data []byte) []entry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var out []entry
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, entry{hdr: *hdr, body: body})
	}
}

// pack encodes entries as a tar.gz archive, sizes taken from the bodies
// unless the header is not a regular file.
func pack(t testing.TB, es []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range es {
		hdr := e.hdr
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(&hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// regular returns a regular-file entry.
func regular(name string, body []byte) entry {
	return entry{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644}, body: body}
}

// manifestOf decodes the manifest entry of es.
func manifestOf(t testing.TB, es []entry) bundle.Manifest {
	t.Helper()
	var m bundle.Manifest
	if err := json.Unmarshal(es[0].body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// setManifest replaces the manifest entry of es with m, canonically
// encoded, as an attacker without the key would.
func setManifest(t testing.TB, es []entry, m bundle.Manifest) {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	es[0].body = data
}

// sentinels are all of the package's errors; every refusal matches one.
var sentinels = []error{
	bundle.ErrUnsigned, bundle.ErrUnknownKey, bundle.ErrSignature, bundle.ErrDigest,
	bundle.ErrStale, bundle.ErrService, bundle.ErrFormat, bundle.ErrTooLarge, bundle.ErrInvalid,
}

// wantErr fails unless err matches want and no other sentinel, so that a
// test for one refusal cannot pass on another.
func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("got %v, want %v", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Fatalf("error %v matches %v as well as %v", err, s, want)
		}
	}
}

// sha256Hex returns "sha256:<hex>" of data.
func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}
