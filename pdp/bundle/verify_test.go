package bundle_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

func TestOpenRefusesUnsigned(t *testing.T) {
	k := newKey(t)
	_, err := bundle.Open(bytes.NewReader(archive(t, build(t, contents("orders", 1), nil))), trustOf(t, k))
	wantErr(t, err, bundle.ErrUnsigned)

	// A signed bundle whose signature entry was stripped.
	es := entries(t, archive(t, build(t, contents("orders", 1), k)))
	es = append(es[:1], es[2:]...)
	_, err = bundle.Open(bytes.NewReader(pack(t, es)), trustOf(t, k))
	wantErr(t, err, bundle.ErrUnsigned)

	// A signature entry under a manifest that names no key.
	es = entries(t, archive(t, build(t, contents("orders", 1), k)))
	m := manifestOf(t, es)
	m.KeyID = ""
	setManifest(t, es, m)
	_, err = bundle.Open(bytes.NewReader(pack(t, es)), trustOf(t, k))
	wantErr(t, err, bundle.ErrUnsigned)

	wantErr(t, build(t, contents("orders", 1), nil).Verify(trustOf(t, k)), bundle.ErrUnsigned)
}

func TestOpenRefusesUnknownKey(t *testing.T) {
	trusted, other := newKey(t), newKey(t)
	data := archive(t, build(t, contents("orders", 1), other))
	_, err := bundle.Open(bytes.NewReader(data), trustOf(t, trusted))
	wantErr(t, err, bundle.ErrUnknownKey)
	_, err = bundle.Open(bytes.NewReader(data), nil)
	wantErr(t, err, bundle.ErrUnknownKey)
}

func TestOpenRefusesBadSignature(t *testing.T) {
	k := newKey(t)
	trust := trustOf(t, k)
	signed := archive(t, build(t, contents("orders", 5), k))

	t.Run("manifest edited", func(t *testing.T) {
		es := entries(t, signed)
		m := manifestOf(t, es)
		m.Revision = 99 // replay an old bundle as a new revision
		setManifest(t, es, m)
		_, err := bundle.Open(bytes.NewReader(pack(t, es)), trust)
		wantErr(t, err, bundle.ErrSignature)
	})
	t.Run("signature flipped", func(t *testing.T) {
		es := entries(t, signed)
		es[1].body[10] ^= 1
		_, err := bundle.Open(bytes.NewReader(pack(t, es)), trust)
		wantErr(t, err, bundle.ErrSignature)
	})
	t.Run("signature of another bundle", func(t *testing.T) {
		es := entries(t, signed)
		other := entries(t, archive(t, build(t, contents("orders", 6), k)))
		es[1].body = other[1].body
		_, err := bundle.Open(bytes.NewReader(pack(t, es)), trust)
		wantErr(t, err, bundle.ErrSignature)
	})
	t.Run("file and its digest edited", func(t *testing.T) {
		es := entries(t, signed)
		m := manifestOf(t, es)
		es[3].body = []byte("package verdict.main\n\ndefault decision := \"Permit\"\n")
		for i := range m.Files {
			if m.Files[i].Name == es[3].hdr.Name {
				m.Files[i] = digestOf(es[3].hdr.Name, es[3].body)
			}
		}
		m.Digest = contentDigestOf(m.Files)
		setManifest(t, es, m)
		_, err := bundle.Open(bytes.NewReader(pack(t, es)), trust)
		wantErr(t, err, bundle.ErrSignature)
	})
}

func TestOpenRefusesTamperedFiles(t *testing.T) {
	k := newKey(t)
	trust := trustOf(t, k)
	signed := archive(t, build(t, contents("orders", 5), k))
	tests := []struct {
		name string
		edit func([]entry) []entry
	}{
		{"module edited", func(es []entry) []entry {
			es[3].body = []byte("package verdict.main\n\ndefault decision := \"Permit\"\n")
			return es
		}},
		{"same size edit", func(es []entry) []entry { es[2].body[2] ^= 0x20; return es }},
		{"file removed", func(es []entry) []entry { return append(es[:4], es[5:]...) }},
		{"file added", func(es []entry) []entry {
			return append(es, regular("source/zz.xml", []byte("<extra/>")))
		}},
		{"file renamed", func(es []entry) []entry { es[6].hdr.Name = "source/orders.yml"; return es }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bundle.Open(bytes.NewReader(pack(t, tt.edit(entries(t, signed)))), trust)
			wantErr(t, err, bundle.ErrDigest)
		})
	}
}

func TestOpenRefusesStale(t *testing.T) {
	k := newKey(t)
	trust := trustOf(t, k)
	data := archive(t, build(t, contents("orders", 5), k))
	for _, active := range []uint64{5, 6, 1 << 40} {
		_, err := bundle.Open(bytes.NewReader(data), trust, bundle.WithActiveRevision(active))
		wantErr(t, err, bundle.ErrStale)
	}
	for _, active := range []uint64{0, 4} {
		if _, err := bundle.Open(bytes.NewReader(data), trust, bundle.WithActiveRevision(active)); err != nil {
			t.Errorf("active %d: %v", active, err)
		}
	}
}

func TestOpenRefusesWrongService(t *testing.T) {
	k := newKey(t)
	data := archive(t, build(t, contents("orders", 1), k))
	_, err := bundle.Open(bytes.NewReader(data), trustOf(t, k), bundle.WithService("billing"))
	wantErr(t, err, bundle.ErrService)
	if _, err := bundle.Open(bytes.NewReader(data), trustOf(t, k), bundle.WithService("orders")); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyOrder checks that the signature is judged before any claim of
// the manifest: a forged bundle for the wrong service and an old revision
// reports the forgery.
func TestVerifyOrder(t *testing.T) {
	k, other := newKey(t), newKey(t)
	data := archive(t, build(t, contents("orders", 1), other))
	_, err := bundle.Open(bytes.NewReader(data), trustOf(t, k), bundle.WithService("billing"), bundle.WithActiveRevision(9))
	wantErr(t, err, bundle.ErrUnknownKey)
}

// digestOf computes a manifest file entry the way an attacker would.
func digestOf(name string, body []byte) bundle.FileDigest {
	b, err := bundle.New(bundle.Contents{
		Service: "x", Revision: 1, RootPolicyID: "r", CreatedAt: created,
		Modules: map[string]string{"a.rego": ""},
		Sources: map[string][]byte{"f": body},
	})
	if err != nil {
		panic(err)
	}
	for _, f := range b.Manifest().Files {
		if f.Name == "source/f" {
			f.Name = name
			return f
		}
	}
	panic("no file")
}

// contentDigestOf recomputes a content digest from the documented rule.
func contentDigestOf(files []bundle.FileDigest) string {
	var lines bytes.Buffer
	for _, f := range files {
		lines.WriteString(f.SHA256 + "  " + f.Name + "\n")
	}
	return sha256Hex(lines.Bytes())
}

func TestContentDigestRule(t *testing.T) {
	b := build(t, contents("orders", 1), nil)
	if got, want := b.Digest(), contentDigestOf(b.Manifest().Files); got != want {
		t.Errorf("digest = %s, documented rule gives %s", got, want)
	}
	// The manifest entries are the SHA-256 of each file.
	for _, f := range b.Manifest().Files {
		if f != digestOf(f.Name, fileBody(t, b, f.Name)) {
			t.Errorf("%s: entry %+v", f.Name, f)
		}
	}
	// And the manifest is the canonical JSON of Manifest.
	es := entries(t, archive(t, b))
	again, err := json.Marshal(manifestOf(t, es))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, es[0].body) {
		t.Errorf("manifest is not canonical:\n%s\n%s", es[0].body, again)
	}
}

// fileBody returns a file by archive name.
func fileBody(t *testing.T, b *bundle.Bundle, name string) []byte {
	t.Helper()
	for _, e := range entries(t, archive(t, b)) {
		if e.hdr.Name == name {
			return e.body
		}
	}
	t.Fatalf("no %s", name)
	return nil
}
