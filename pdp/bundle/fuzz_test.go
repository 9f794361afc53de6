package bundle_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"reflect"
	"testing"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

// readSentinels are the only errors Read may return.
var readSentinels = []error{bundle.ErrFormat, bundle.ErrTooLarge, bundle.ErrDigest}

// fuzzSeeds returns archives that exercise every part of the reader.
func fuzzSeeds(t testing.TB, k *bundle.SigningKey) [][]byte {
	signed := archive(t, build(t, contents("orders", 1), k))
	es := entries(t, signed)
	es[3].body = append(es[3].body, '#')
	return [][]byte{
		signed,
		archive(t, build(t, contents("orders", 1), nil)),
		pack(t, es),
		pack(t, es[:1]),
		pack(t, nil),
	}
}

// checkRead asserts the reader's contract for arbitrary input: it never
// panics, fails only with its sentinels, and what it accepts re-encodes to
// an archive it accepts again with the same manifest.
func checkRead(t *testing.T, data []byte, trust *bundle.TrustStore) {
	b, err := bundle.Read(bytes.NewReader(data), bundle.WithMaxSize(1<<20))
	if err != nil {
		for _, s := range readSentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("Read error matches no sentinel: %v", err)
	}
	again, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	b2, err := bundle.Read(bytes.NewReader(again), bundle.WithMaxSize(1<<20))
	if err != nil {
		t.Fatalf("re-encoded bundle refused: %v", err)
	}
	if !reflect.DeepEqual(b.Manifest(), b2.Manifest()) || b.Digest() != b2.Digest() {
		t.Fatal("re-encoding changed the manifest")
	}
	if !reflect.DeepEqual(b.Modules(), b2.Modules()) {
		t.Fatal("re-encoding changed the modules")
	}
	if err := b.Verify(trust); err != nil {
		for _, s := range []error{bundle.ErrUnsigned, bundle.ErrUnknownKey, bundle.ErrSignature, bundle.ErrStale} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("Verify error matches no sentinel: %v", err)
	}
}

// FuzzRead feeds arbitrary bytes to the reader as a whole archive.
func FuzzRead(f *testing.F) {
	k := newKey(f)
	trust := trustOf(f, k)
	for _, s := range fuzzSeeds(f, k) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkRead(t, data, trust) })
}

// FuzzReadTar feeds arbitrary bytes as the tar stream inside a valid gzip
// member, so that mutations reach tar parsing, path checks and the
// manifest rather than dying on the gzip checksum.
func FuzzReadTar(f *testing.F) {
	k := newKey(f)
	trust := trustOf(f, k)
	for _, s := range fuzzSeeds(f, k) {
		zr, err := gzip.NewReader(bytes.NewReader(s))
		if err != nil {
			f.Fatal(err)
		}
		var raw bytes.Buffer
		if _, err := raw.ReadFrom(zr); err != nil {
			f.Fatal(err)
		}
		f.Add(raw.Bytes())
	}
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "manifest.json", Linkname: "../../etc/passwd"})
	tw.Close()
	f.Add(raw.Bytes())

	// One writer, reset per input: a fresh compressor's state would
	// dominate the fuzzing time. Inputs of one process run one at a time.
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	f.Fuzz(func(t *testing.T, tarStream []byte) {
		buf.Reset()
		zw.Reset(&buf)
		zw.Write(tarStream)
		zw.Close()
		checkRead(t, buf.Bytes(), trust)
	})
}

// FuzzParseKeySet checks that key set parsing never panics, fails only
// with ErrFormat, and that what it accepts re-encodes identically.
func FuzzParseKeySet(f *testing.F) {
	a := newKey(f)
	good, err := signKeySet(f, a, 1, a.PublicKey(), newKey(f).PublicKey()).MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"payload":"e30="}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := bundle.ParseKeySet(data)
		if err != nil {
			if !errors.Is(err, bundle.ErrFormat) {
				t.Fatalf("error matches no sentinel: %v", err)
			}
			return
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		s2, err := bundle.ParseKeySet(again)
		if err != nil || !reflect.DeepEqual(s.KeySet(), s2.KeySet()) || s.SignerKeyID() != s2.SignerKeyID() {
			t.Fatalf("re-encoded key set differs: %v", err)
		}
		// A fresh store each time: only structure is fuzzed here.
		fresh, _ := bundle.NewTrustStore([]bundle.PublicKey{a.PublicKey()})
		if err := fresh.Apply(s); err != nil && !errors.Is(err, bundle.ErrUnsigned) && !errors.Is(err, bundle.ErrUnknownKey) &&
			!errors.Is(err, bundle.ErrSignature) {
			t.Fatalf("Apply error: %v", err)
		}
	})
}
