package bundle_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

func TestLastKnownGood(t *testing.T) {
	k := newKey(t)
	trust := trustOf(t, k)
	dir := t.TempDir()

	_, err := bundle.ReadFile(dir, "orders", trust)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty dir: %v", err)
	}
	for rev := uint64(1); rev <= 3; rev++ {
		path, err := build(t, contents("orders", rev), k).WriteFile(dir)
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(dir, bundle.FileName("orders")) {
			t.Errorf("path %s", path)
		}
	}
	b, err := bundle.ReadFile(dir, "orders", trust)
	if err != nil {
		t.Fatal(err)
	}
	if b.Manifest().Revision != 3 {
		t.Errorf("revision %d, want the last written", b.Manifest().Revision)
	}
	st, err := os.Stat(filepath.Join(dir, bundle.FileName("orders")))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 {
		t.Errorf("directory holds %d entries (temporary files left behind?)", len(names))
	}

	_, err = bundle.ReadFile(dir, "orders", trust, bundle.WithActiveRevision(3))
	wantErr(t, err, bundle.ErrStale)
	_, err = bundle.ReadFile(dir, "Orders", trust)
	wantErr(t, err, bundle.ErrInvalid)
	_, err = bundle.ReadFile(dir, "orders", trustOf(t, newKey(t)))
	wantErr(t, err, bundle.ErrUnknownKey)
}

func TestLastKnownGoodVerified(t *testing.T) {
	k := newKey(t)
	trust := trustOf(t, k)
	dir := t.TempDir()
	path, err := build(t, contents("orders", 1), k).WriteFile(dir)
	if err != nil {
		t.Fatal(err)
	}

	// Another service's bundle under this service's name.
	if err := os.Rename(path, filepath.Join(dir, bundle.FileName("billing"))); err != nil {
		t.Fatal(err)
	}
	_, err = bundle.ReadFile(dir, "billing", trust)
	wantErr(t, err, bundle.ErrService)
	// An explicit WithService cannot override the name asked for.
	_, err = bundle.ReadFile(dir, "billing", trust, bundle.WithService("orders"))
	wantErr(t, err, bundle.ErrService)

	// A file tampered with on disk.
	es := entries(t, archive(t, build(t, contents("orders", 2), k)))
	es[3].body = []byte("package verdict.main\n\ndefault decision := \"Permit\"\n")
	if err := os.WriteFile(filepath.Join(dir, bundle.FileName("orders")), pack(t, es), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = bundle.ReadFile(dir, "orders", trust)
	wantErr(t, err, bundle.ErrDigest)

	// Unsigned bundles are never persisted.
	_, err = build(t, contents("orders", 3), nil).WriteFile(dir)
	wantErr(t, err, bundle.ErrUnsigned)

	// A directory that cannot be written reports an error, not a partial file.
	_, err = build(t, contents("orders", 3), k).WriteFile(filepath.Join(dir, "missing"))
	if err == nil {
		t.Fatal("write into a missing directory succeeded")
	}
}
