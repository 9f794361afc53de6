package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pap/store/sqlite"
	"github.com/verdict-authz/verdict/pap/store/storetest"
)

func newStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return newStore(t, filepath.Join(t.TempDir(), "pap.db"))
	})
}

func BenchmarkStore(b *testing.B) {
	storetest.Benchmark(b, func(b *testing.B) store.Store {
		return newStore(b, filepath.Join(b.TempDir(), "pap.db"))
	})
}

func draft(parent int64, author string) store.Draft {
	return store.Draft{
		Service: "orders",
		Parent:  parent,
		Content: store.Content{
			Sources:      []store.Source{{Name: "root.xml", Format: "xacml-xml", Content: []byte("<Policy/>")}},
			RootPolicyID: "root",
			Rego:         map[string]string{"root.rego": "package root\n"},
		},
		Author: author,
	}
}

// rawDB opens the store's file directly, as an operator's tool would.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestReopenKeepsRevisionsAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pap.db")
	first, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	created, err := first.Create(t.Context(), draft(0, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	second := newStore(t, path)
	got, err := second.Latest(t.Context(), "orders")
	if err != nil {
		t.Fatalf("Latest after reopening: %v", err)
	}
	if got.Number != 1 || got.Digest != created.Digest || !got.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("after reopening, head = #%d %s %s, want #1 %s %s", got.Number, got.Digest, got.CreatedAt, created.Digest, created.CreatedAt)
	}

	db := rawDB(t, path)
	var versions, distinct int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&versions, &distinct); err != nil {
		t.Fatal(err)
	}
	if versions == 0 || versions != distinct {
		t.Fatalf("schema_migrations has %d rows for %d versions after two opens", versions, distinct)
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(mode, "wal") {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
}

func TestOpenRefusesUnknownOrEditedMigrations(t *testing.T) {
	tests := map[string]string{
		"newer schema":     `INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (999, '0999_future.sql', 'x', 0)`,
		"edited migration": `UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1`,
	}
	for name, tamper := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pap.db")
			s, err := sqlite.Open(t.Context(), path)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			if _, err := rawDB(t, path).Exec(tamper); err != nil {
				t.Fatal(err)
			}
			if s, err := sqlite.Open(t.Context(), path); err == nil {
				s.Close()
				t.Fatal("Open succeeded on a database it must refuse")
			}
		})
	}
}

func TestOpenRejectsBadArguments(t *testing.T) {
	_, err := sqlite.Open(t.Context(), "")
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Open(\"\") error = %v, want ErrInvalid", err)
	}
	_, err = sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "pap.db"), sqlite.WithBusyTimeout(-1))
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Open with a negative busy timeout: error = %v, want ErrInvalid", err)
	}
	_, err = sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing-dir", "pap.db"))
	if err == nil {
		t.Error("Open in a missing directory succeeded")
	}
}

// TestOpenPathWithURLCharacters checks that the path reaches SQLite intact
// although the DSN is a file: URL.
func TestOpenPathWithURLCharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a ?b#c%20d&e=f")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "pap?.db")
	s := newStore(t, path)
	if _, err := s.Create(t.Context(), draft(0, "alice")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not created at the given path: %v", err)
	}
}

// TestTwoStoresOnOneFile is two PAP processes sharing a database file:
// their pushes serialise through SQLite's own lock (BEGIN IMMEDIATE and the
// busy timeout), so revision numbers stay gapless across them.
func TestTwoStoresOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pap.db")
	stores := []*sqlite.Store{newStore(t, path), newStore(t, path)}
	const perStore = 10
	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() {
			for p := 0; p < perStore; {
				var parent int64
				if head, err := s.Latest(t.Context(), "orders"); err == nil {
					parent = head.Number
				} else if !errors.Is(err, store.ErrNotFound) {
					errs[i] = err
					return
				}
				_, err := s.Create(t.Context(), draft(parent, fmt.Sprintf("store-%d", i)))
				if errors.Is(err, store.ErrConflict) {
					continue
				}
				if err != nil {
					errs[i] = err
					return
				}
				p++
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	for _, s := range stores {
		page, err := s.List(t.Context(), "orders", store.PageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 2*perStore {
			t.Fatalf("%d revisions, want %d", len(page.Items), 2*perStore)
		}
		for i, sum := range page.Items {
			if want := int64(2*perStore - i); sum.Number != want {
				t.Fatalf("revision numbers not gapless: item %d is #%d, want #%d", i, sum.Number, want)
			}
		}
	}
}
