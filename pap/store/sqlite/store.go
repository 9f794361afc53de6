// Package sqlite is the default revision store: one SQLite file on local
// disk through modernc.org/sqlite (pure Go, no cgo), in WAL mode so that
// readers never block the writer.
//
// All writes go through a single connection that starts its transactions
// with BEGIN IMMEDIATE, so concurrent pushes queue in Go instead of
// failing with SQLITE_BUSY, and revision numbers are assigned strictly one
// after another; reads use a separate read-only pool.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

	"github.com/verdict-authz/verdict/pap/store"
)

var _ store.Store = (*Store)(nil)

// Store is a store.Store kept in one SQLite database file.
type Store struct {
	writer *sql.DB // one connection: BEGIN IMMEDIATE serialises pushes
	reader *sql.DB // read-only pool; WAL lets it run beside the writer
	closed atomic.Bool
}

// Open opens (creating if needed) the database file at path and brings its
// schema up to date, so that a PAP can start on an empty data directory or
// on one written by an older release.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	cfg := config{busyTimeout: DefaultBusyTimeout}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if path == "" {
		return nil, fmt.Errorf("open sqlite store: %w: empty database path", store.ErrInvalid)
	}
	if cfg.busyTimeout < 0 {
		return nil, fmt.Errorf("open sqlite store: %w: negative busy timeout %s", store.ErrInvalid, cfg.busyTimeout)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}

	writer, err := openDB(abs, cfg, false)
	if err != nil {
		return nil, err
	}
	writer.SetMaxOpenConns(1)
	if err := migrate(ctx, writer); err != nil {
		writer.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", abs, err)
	}

	// The reader pool opens only after migrate has switched the file to WAL.
	reader, err := openDB(abs, cfg, true)
	if err != nil {
		writer.Close()
		return nil, err
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	return &Store{writer: writer, reader: reader}, nil
}

// openDB returns a pool of connections to the file at abs. Every
// connection waits cfg.busyTimeout for locks and enforces foreign keys;
// writers sync fully on commit (a revision the PAP has published must
// survive a power loss) and take the write lock when a transaction begins,
// so that no transaction has to upgrade a read lock and risk SQLITE_BUSY.
func openDB(abs string, cfg config, readOnly bool) (*sql.DB, error) {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "1")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_synchronous", "FULL")
		q.Set("_txlock", "immediate")
	}
	dsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String()
	connector, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", abs, err)
	}
	return sql.OpenDB(connector), nil
}

// Close closes both connection pools. Calls after the first return nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// open returns ErrClosed after Close, so that callers get the store's
// sentinel rather than database/sql's message.
func (s *Store) open() error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// now is the creation time of a new revision: UTC, truncated to the
// microseconds that created_at keeps, so that what Create returns is
// exactly what Get reads back.
func now() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// fromMicros converts a stored created_at back to a time.Time.
func fromMicros(us int64) time.Time {
	return time.UnixMicro(us).UTC()
}
