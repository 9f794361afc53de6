package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"
)

// OpenSQLite opens (creating if needed) the SQLite database at path. One
// connection writes (SQLite serialises writers anyway, and a single
// writer keeps chain appends ordered); WAL lets queries run meanwhile.
func OpenSQLite(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("audit sqlite %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	dsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String()
	connector, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("audit sqlite %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	return open(ctx, db, sqliteDialect)
}

// OpenPostgres connects to PostgreSQL (dsn as pgx accepts it) and keeps
// the audit tables in schema, created when missing, so that the audit log
// can share a server with other data (and tests can isolate themselves).
func OpenPostgres(ctx context.Context, dsn, schema string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("audit postgres: %w", err)
	}
	if schema != "" {
		cfg.RuntimeParams["search_path"] = schema
	}
	db := stdlib.OpenDB(*cfg)
	if schema != "" {
		if _, err := db.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			db.Close()
			return nil, fmt.Errorf("audit postgres: create schema %s: %w", schema, err)
		}
	}
	return open(ctx, db, postgresDialect)
}

func open(ctx context.Context, db *sql.DB, d dialect) (*Store, error) {
	for _, stmt := range schema {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("audit %s: migrate: %w", d.name, err)
		}
	}
	return &Store{db: db, d: d}, nil
}
