// Package migration holds the rules every store backend follows for its
// versioned schema: migrations are embedded SQL files named
// NNNN_description.sql, numbered 1, 2, 3… without gaps, each applied once in
// order and recorded with a checksum so that an edited or unknown migration
// is caught instead of silently diverging. Applying them is the backend's
// job, since each database locks and runs DDL its own way.
package migration

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one schema change.
type Migration struct {
	// Version is the number in the file name; versions start at 1.
	Version int64
	// Name is the file name, recorded for operators reading
	// schema_migrations.
	Name string
	// SQL is the file's content, run as one script.
	SQL string
	// Checksum is the hex SHA-256 of SQL, recorded when applied so that a
	// later edit of an applied migration is detected.
	Checksum string
}

// Load reads every *.sql file at the root of fsys and returns them sorted by
// version. It fails on a badly named file, a duplicate version, a gap, or
// when there is no migration at all: all mistakes made when writing a new
// migration, better caught by the first test than by a production start.
func Load(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	migrations := make([]Migration, 0, len(names))
	for _, name := range names {
		version, err := parseVersion(name)
		if err != nil {
			return nil, err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		sum := sha256.Sum256(body)
		migrations = append(migrations, Migration{
			Version:  version,
			Name:     name,
			SQL:      string(body),
			Checksum: hex.EncodeToString(sum[:]),
		})
	}
	if len(migrations) == 0 {
		return nil, errors.New("no migrations found")
	}
	slices.SortFunc(migrations, func(a, b Migration) int { return int(a.Version - b.Version) })
	for i, m := range migrations {
		if want := int64(i + 1); m.Version != want {
			return nil, fmt.Errorf("migration %s has version %d, want %d (versions must run 1, 2, 3… without gaps or duplicates)", m.Name, m.Version, want)
		}
	}
	return migrations, nil
}

// parseVersion reads NNNN from NNNN_description.sql.
func parseVersion(name string) (int64, error) {
	prefix, desc, ok := strings.Cut(strings.TrimSuffix(path.Base(name), ".sql"), "_")
	if !ok || desc == "" {
		return 0, fmt.Errorf("migration %s: name must be NNNN_description.sql", name)
	}
	version, err := strconv.ParseInt(prefix, 10, 64)
	if err != nil || version < 1 {
		return 0, fmt.Errorf("migration %s: name must start with a positive version number", name)
	}
	return version, nil
}

// Pending returns the migrations of known that are not in applied (version
// → checksum, as read from schema_migrations), in order. It fails when the
// database has a version this binary does not know (it was migrated by a
// newer release, so running would corrupt it) or when an applied
// migration's checksum differs from the embedded file (someone edited a
// migration after it shipped).
func Pending(known []Migration, applied map[int64]string) ([]Migration, error) {
	byVersion := make(map[int64]Migration, len(known))
	for _, m := range known {
		byVersion[m.Version] = m
	}
	for version, checksum := range applied {
		m, ok := byVersion[version]
		if !ok {
			return nil, fmt.Errorf("database schema has migration %d, which this binary does not know (latest known: %d); upgrade the binary", version, len(known))
		}
		if m.Checksum != checksum {
			return nil, fmt.Errorf("migration %s was applied with checksum %s but the embedded file has %s; applied migrations must never be edited", m.Name, checksum, m.Checksum)
		}
	}
	var pending []Migration
	for _, m := range known {
		if _, ok := applied[m.Version]; !ok {
			pending = append(pending, m)
		}
	}
	return pending, nil
}
