package bundle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

func TestReadRefusesMalformed(t *testing.T) {
	k := newKey(t)
	signed := archive(t, build(t, contents("orders", 2), k))
	gz := func(raw []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(raw)
		zw.Close()
		return buf.Bytes()
	}
	edit := func(f func([]entry) []entry) []byte { return pack(t, f(entries(t, signed))) }
	editManifest := func(f func(*bundle.Manifest)) []byte {
		es := entries(t, signed)
		m := manifestOf(t, es)
		f(&m)
		setManifest(t, es, m)
		return pack(t, es)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty input", nil},
		{"not gzip", []byte("manifest.json")},
		{"gzip of garbage", gz([]byte("not a tar stream at all, but long enough to fill a header block......"))},
		{"empty tar", pack(t, nil)},
		{"truncated", signed[:len(signed)/2]},
		{"corrupted gzip", func() []byte {
			d := bytes.Clone(signed)
			d[len(d)-6] ^= 0xff // CRC trailer
			return d
		}()},
		{"trailing data", append(bytes.Clone(signed), "junk"...)},
		{"second gzip member", append(bytes.Clone(signed), signed...)},
		{"manifest not first", edit(func(es []entry) []entry { es[0], es[2] = es[2], es[0]; return es })},
		{"no manifest", edit(func(es []entry) []entry { return es[1:] })},
		{"signature misplaced", edit(func(es []entry) []entry {
			return append([]entry{es[0]}, append(es[2:3], append([]entry{es[1]}, es[3:]...)...)...)
		})},
		{"short signature", edit(func(es []entry) []entry { es[1].body = es[1].body[:63]; return es })},
		{"files out of order", edit(func(es []entry) []entry { es[3], es[4] = es[4], es[3]; return es })},
		{"duplicate file", edit(func(es []entry) []entry { return append(es[:4], es[3:]...) })},
		{"unknown entry", edit(func(es []entry) []entry { return append(es, regular("tools/x", nil)) })},
		{"parent traversal", edit(func(es []entry) []entry { return append(es, regular("source/../../etc/passwd", nil)) })},
		{"absolute path", edit(func(es []entry) []entry { return append(es, regular("/etc/passwd", nil)) })},
		{"backslash path", edit(func(es []entry) []entry { return append(es, regular(`source/..\..\x`, nil)) })},
		{"dot path", edit(func(es []entry) []entry { return append(es, regular("source/./x", nil)) })},
		{"directory entry", edit(func(es []entry) []entry {
			return append(es, entry{hdr: tar.Header{Typeflag: tar.TypeDir, Name: "source/zdir/", Mode: 0o755}})
		})},
		{"symlink entry", edit(func(es []entry) []entry {
			return append(es, entry{hdr: tar.Header{Typeflag: tar.TypeSymlink, Name: "source/zz", Linkname: "/etc/passwd"}})
		})},
		{"hard link entry", edit(func(es []entry) []entry {
			return append(es, entry{hdr: tar.Header{Typeflag: tar.TypeLink, Name: "source/zz", Linkname: "rego/verdict/main.rego"}})
		})},
		{"manifest pretty-printed", edit(func(es []entry) []entry {
			var buf bytes.Buffer
			buf.Write(bytes.ReplaceAll(es[0].body, []byte(`,"`), []byte(`, "`)))
			es[0].body = buf.Bytes()
			return es
		})},
		{"manifest unknown field", edit(func(es []entry) []entry {
			es[0].body = append([]byte(`{"extra":1,`), es[0].body[1:]...)
			return es
		})},
		{"manifest duplicate key", edit(func(es []entry) []entry {
			es[0].body = append([]byte(`{"revision":99,`), es[0].body[1:]...)
			return es
		})},
		{"manifest key case", edit(func(es []entry) []entry {
			es[0].body = bytes.Replace(es[0].body, []byte(`"revision"`), []byte(`"Revision"`), 1)
			return es
		})},
		{"manifest trailing data", edit(func(es []entry) []entry { es[0].body = append(es[0].body, ' '); return es })},
		{"manifest not JSON", edit(func(es []entry) []entry { es[0].body = []byte("{"); return es })},
		{"format version 2", editManifest(func(m *bundle.Manifest) { m.Format = 2 })},
		{"bad service", editManifest(func(m *bundle.Manifest) { m.Service = "Orders" })},
		{"revision 0", editManifest(func(m *bundle.Manifest) { m.Revision = 0 })},
		{"no created_at", editManifest(func(m *bundle.Manifest) { m.CreatedAt = time.Time{} })},
		{"no root", editManifest(func(m *bundle.Manifest) { m.RootPolicyID = "" })},
		{"bad key id", editManifest(func(m *bundle.Manifest) { m.KeyID = "not-a-key-id" })},
		{"bad digest", editManifest(func(m *bundle.Manifest) { m.Digest = "md5:00" })},
		{"bad file sha", editManifest(func(m *bundle.Manifest) { m.Files[0].SHA256 = strings.ToUpper(m.Files[0].SHA256) })},
		{"negative size", editManifest(func(m *bundle.Manifest) { m.Files[0].Size = -1 })},
		{"manifest files unsorted", editManifest(func(m *bundle.Manifest) { m.Files[1], m.Files[2] = m.Files[2], m.Files[1] })},
		{"manifest traversal", editManifest(func(m *bundle.Manifest) { m.Files[0].Name = "data/../x.json" })},
		{"no module", func() []byte {
			es := entries(t, signed)
			m := manifestOf(t, es)
			var kept []entry
			m.Files = nil
			for _, e := range es[2:] {
				if !strings.HasPrefix(e.hdr.Name, "rego/") {
					kept = append(kept, e)
					m.Files = append(m.Files, digestOf(e.hdr.Name, e.body))
				}
			}
			m.Digest = contentDigestOf(m.Files)
			es = append(es[:2], kept...)
			setManifest(t, es, m)
			return pack(t, es)
		}()},
		{"data not JSON", func() []byte {
			// Consistent digests over unusable content: a producer bug.
			es := entries(t, signed)
			m := manifestOf(t, es)
			es[2].body = []byte("{not json")
			m.Files[0] = digestOf(es[2].hdr.Name, es[2].body)
			m.Digest = contentDigestOf(m.Files)
			setManifest(t, es, m)
			return pack(t, es)
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bundle.Read(bytes.NewReader(tt.data))
			wantErr(t, err, bundle.ErrFormat)
			_, err = bundle.Open(bytes.NewReader(tt.data), trustOf(t, k))
			wantErr(t, err, bundle.ErrFormat)
		})
	}
}

func TestReadRefusesTooLarge(t *testing.T) {
	const limit = 1 << 20
	t.Run("decompression bomb", func(t *testing.T) {
		// 64 MiB of zeros in entries of 512 KiB, each under the limit,
		// compresses to a fraction of the limit.
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		tw := tar.NewWriter(zw)
		zeros := make([]byte, 512<<10)
		for i := range 128 {
			name := "manifest.json"
			if i > 0 {
				name = fmt.Sprintf("data/%03d.json", i)
			}
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(zeros)), Mode: 0o644})
			tw.Write(zeros)
		}
		tw.Close()
		zw.Close()
		if buf.Len() > limit {
			t.Fatalf("bomb is %d bytes compressed; the test needs it under the limit", buf.Len())
		}
		start := time.Now()
		_, err := bundle.Read(bytes.NewReader(buf.Bytes()), bundle.WithMaxSize(limit))
		wantErr(t, err, bundle.ErrTooLarge)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("refusing the bomb took %v", d)
		}
	})
	t.Run("bomb after the files", func(t *testing.T) {
		// Zeros after the end-of-archive marker are still decompressed and
		// still counted.
		es := entries(t, archive(t, build(t, contents("orders", 1), nil)))
		var raw bytes.Buffer
		tw := tar.NewWriter(&raw)
		for _, e := range es {
			h := e.hdr
			tw.WriteHeader(&h)
			tw.Write(e.body)
		}
		tw.Close()
		raw.Write(make([]byte, 4<<20))
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(raw.Bytes())
		zw.Close()
		_, err := bundle.Read(bytes.NewReader(buf.Bytes()), bundle.WithMaxSize(limit))
		wantErr(t, err, bundle.ErrTooLarge)
		if _, err := bundle.Read(bytes.NewReader(buf.Bytes()), bundle.WithMaxSize(8<<20)); err != nil {
			t.Errorf("zero padding within the limit: %v", err)
		}
	})
	t.Run("declared size", func(t *testing.T) {
		// A header that claims a huge entry is refused before allocating.
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "manifest.json", Size: 2 << 20, Mode: 0o644})
		zw.Close()
		_, err := bundle.Read(bytes.NewReader(buf.Bytes()), bundle.WithMaxSize(limit))
		wantErr(t, err, bundle.ErrTooLarge)
	})
	t.Run("declared size not allocated", func(t *testing.T) {
		// A header may claim up to the limit; memory follows the data that
		// actually arrives, not the claim.
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "manifest.json", Size: 512 << 20, Mode: 0o644})
		tw.Write([]byte("{}"))
		zw.Close()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := bundle.Read(bytes.NewReader(buf.Bytes()), bundle.WithMaxSize(1<<30))
		runtime.ReadMemStats(&after)
		wantErr(t, err, bundle.ErrFormat)
		if grown := after.TotalAlloc - before.TotalAlloc; grown > 16<<20 {
			t.Errorf("reading a 2-byte entry that claims 512 MiB allocated %d bytes", grown)
		}
	})
	t.Run("compressed input", func(t *testing.T) {
		c := contents("orders", 1)
		noise := make([]byte, 2*limit)
		for i := range noise {
			noise[i] = byte(i*7919 + i>>8*31 + i>>16*131)
		}
		c.Sources["noise.bin"] = noise
		b, err := bundle.New(c, bundle.WithMaxSize(8*limit))
		if err != nil {
			t.Fatal(err)
		}
		_, err = bundle.Read(bytes.NewReader(archive(t, b)), bundle.WithMaxSize(limit))
		wantErr(t, err, bundle.ErrTooLarge)
	})
	t.Run("endless stream", func(t *testing.T) {
		// A valid bundle followed by a decompressed stream that never ends
		// must be cut off at the limit, not read forever.
		es := entries(t, archive(t, build(t, contents("orders", 1), nil)))
		pr, pw := io.Pipe()
		go func() {
			zw := gzip.NewWriter(pw)
			tw := tar.NewWriter(zw)
			for _, e := range es {
				h := e.hdr
				tw.WriteHeader(&h)
				tw.Write(e.body)
			}
			tw.Close()
			chunk := make([]byte, 64<<10)
			for {
				if _, err := zw.Write(chunk); err != nil {
					return
				}
			}
		}()
		defer pr.Close()
		_, err := bundle.Read(pr, bundle.WithMaxSize(limit))
		wantErr(t, err, bundle.ErrTooLarge)
	})
}

func TestReadLongPaths(t *testing.T) {
	// Paths beyond tar's 100-byte name field still round-trip (PAX).
	k := newKey(t)
	c := contents("orders", 1)
	long := strings.Repeat("d/", 100) + "policy.rego"
	c.Modules[long] = "package long"
	b, err := bundle.Open(bytes.NewReader(archive(t, build(t, c, k))), trustOf(t, k))
	if err != nil {
		t.Fatal(err)
	}
	if b.Modules()[long] != "package long" {
		t.Error("long path lost")
	}
}
