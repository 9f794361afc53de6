// Package sqlstore implements audit.Store over SQL: SQLite (the default,
// through modernc.org/sqlite, no cgo) or PostgreSQL (through pgx) for
// deployments that already run one. Both share the SQL and the chaining
// code; a dialect carries their few differences.
package sqlstore
