// Package postgres is the revision store for PAPs that keep their state on
// a PostgreSQL server, through pgx and a pgxpool connection pool.
//
// Revision numbers are assigned by a conditional update of the service's
// head row: its row lock serialises concurrent pushes to one service (from
// any number of PAP processes) while pushes to different services proceed
// in parallel.
package postgres

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/verdict-authz/verdict/pap/store"
)

var _ store.Store = (*Store)(nil)

// Store is a store.Store kept in one schema of a PostgreSQL database.
type Store struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
}

// Open connects to the database at dsn (a PostgreSQL URL or keyword/value
// string, as pgx accepts, including pool_* settings) and brings the
// store's schema up to date, creating it when missing.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	cfg := config{schema: DefaultSchema}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if !validSchema(cfg.schema) {
		return nil, fmt.Errorf("open postgres store: %w: schema name %q must match [a-z_][a-z0-9_]{0,62}", store.ErrInvalid, cfg.schema)
	}
	poolCfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	// Every connection resolves unqualified table names in the store's
	// schema only, so the SQL stays schema-agnostic.
	poolCfg.ConnConfig.RuntimeParams["search_path"] = cfg.schema
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres store: %w", err)
	}
	if err := migrate(ctx, pool, cfg.schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open postgres store (schema %s): %w", cfg.schema, err)
	}
	return &Store{pool: pool}, nil
}

// validSchema accepts lower-case unquoted identifiers only, so that the name
// means the same thing in search_path, in SQL and to operators.
func validSchema(name string) bool {
	if len(name) < 1 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || c >= '0' && c <= '9' && i > 0) {
			return false
		}
	}
	return true
}

// Close closes the connection pool, waiting for connections in use to be
// returned. Calls after the first return nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.pool.Close()
	return nil
}

// open returns ErrClosed after Close, so that callers get the store's
// sentinel rather than the pool's message.
func (s *Store) open() error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return nil
}

// now is the creation time of a new revision: UTC, truncated to the
// microseconds timestamptz keeps, so that what Create returns is exactly
// what Get reads back.
func now() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}

// ceilMicro rounds t up to the microsecond: timestamptz keeps microseconds
// and pgx truncates, which would let in a change made before Since or drop
// one made just before Until.
func ceilMicro(t time.Time) time.Time {
	if r := t.Truncate(time.Microsecond); !r.Equal(t) {
		return r.Add(time.Microsecond)
	}
	return t
}
