package migration

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadSortsAndChecksums(t *testing.T) {
	fsys := fstest.MapFS{
		"0002_indexes.sql": {Data: []byte("CREATE INDEX b;")},
		"0001_init.sql":    {Data: []byte("CREATE TABLE a;")},
		"README.md":        {Data: []byte("not a migration")},
	}
	got, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Load returned %d migrations, want 2", len(got))
	}
	if got[0].Version != 1 || got[0].Name != "0001_init.sql" || got[0].SQL != "CREATE TABLE a;" {
		t.Errorf("first migration = %+v", got[0])
	}
	if got[1].Version != 2 || got[1].Name != "0002_indexes.sql" {
		t.Errorf("second migration = %+v", got[1])
	}
	// SHA-256 of "CREATE TABLE a;", computed independently with sha256sum.
	const want = "758c379cb82b3ab99156d1ac177bba218413f86302ed93d0019a7aeb5c5c5e7c"
	if got[0].Checksum != want {
		t.Errorf("checksum = %s, want %s", got[0].Checksum, want)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := map[string]fstest.MapFS{
		"empty":            {},
		"gap":              {"0001_a.sql": {}, "0003_c.sql": {}},
		"duplicate":        {"0001_a.sql": {}, "1_b.sql": {}},
		"starts at two":    {"0002_a.sql": {}},
		"no description":   {"0001.sql": {}},
		"not a number":     {"abcd_x.sql": {}},
		"zero":             {"0000_x.sql": {}},
		"negative version": {"-001_x.sql": {}},
	}
	for name, fsys := range tests {
		t.Run(name, func(t *testing.T) {
			if got, err := Load(fsys); err == nil {
				t.Fatalf("Load succeeded with %d migrations, want an error", len(got))
			}
		})
	}
}

func TestPending(t *testing.T) {
	known, err := Load(fstest.MapFS{
		"0001_a.sql": {Data: []byte("a")},
		"0002_b.sql": {Data: []byte("b")},
		"0003_c.sql": {Data: []byte("c")},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("fresh database gets all", func(t *testing.T) {
		got, err := Pending(known, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got[0].Version != 1 || got[2].Version != 3 {
			t.Fatalf("Pending = %v, want versions 1..3", got)
		}
	})
	t.Run("partly migrated gets the rest", func(t *testing.T) {
		got, err := Pending(known, map[int64]string{1: known[0].Checksum})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Version != 2 || got[1].Version != 3 {
			t.Fatalf("Pending = %v, want versions 2, 3", got)
		}
	})
	t.Run("up to date gets none", func(t *testing.T) {
		applied := map[int64]string{}
		for _, m := range known {
			applied[m.Version] = m.Checksum
		}
		got, err := Pending(known, applied)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf("Pending = %v, want none", got)
		}
	})
	t.Run("edited migration", func(t *testing.T) {
		_, err := Pending(known, map[int64]string{1: "0000"})
		if err == nil || !strings.Contains(err.Error(), "0001_a.sql") {
			t.Fatalf("Pending error = %v, want one naming 0001_a.sql", err)
		}
	})
	t.Run("newer database", func(t *testing.T) {
		_, err := Pending(known, map[int64]string{4: "x"})
		if err == nil || !strings.Contains(err.Error(), "migration 4") {
			t.Fatalf("Pending error = %v, want one naming migration 4", err)
		}
	})
}
