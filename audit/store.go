package audit

import (
	"context"
	"errors"
	"time"
)

// Errors stores and the collector return, for errors.Is.
var (
	// ErrNotFound: no record has that decision id.
	ErrNotFound = errors.New("audit: not found")
	// ErrBadRecord: a message is not a decision record.
	ErrBadRecord = errors.New("audit: bad record")
	// ErrInvalid: a query or argument is malformed (e.g. a bad page token).
	ErrInvalid = errors.New("audit: invalid argument")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("audit: store closed")
)

// Store keeps decision records, one per decision id, chained per service.
// Implementations (SQLite, Postgres) share the contract test suite in
// audit/storetest.
type Store interface {
	// Append stores the entries whose decision id is not stored yet,
	// chaining each after its service's head, in one transaction, and
	// returns how many were new and the resulting heads of the services
	// touched. Entries already stored are skipped, which makes redelivery
	// harmless.
	Append(ctx context.Context, entries []Entry) (AppendResult, error)
	// Get returns the entry of one decision, or ErrNotFound.
	Get(ctx context.Context, decisionID string) (Entry, error)
	// Query returns entries matching f, newest first, one page at a time.
	Query(ctx context.Context, f Filter) (Page, error)
	// Scan calls fn for every entry of service's chain in chain order; it
	// is what Verify reads.
	Scan(ctx context.Context, service string, fn func(Entry) error) error
	// Services lists the services with at least one entry.
	Services(ctx context.Context) ([]string, error)
	// Retain deletes the entries t covers and stores t, in one
	// transaction (see audit.Retain).
	Retain(ctx context.Context, t Tombstone) error
	// Tombstones returns the retention tombstones of service, oldest
	// first.
	Tombstones(ctx context.Context, service string) ([]Tombstone, error)
	// Count returns the number of entries of service ("" for all).
	Count(ctx context.Context, service string) (int64, error)
	// Close releases the database; idempotent.
	Close() error
}

// AppendResult says what Append did.
type AppendResult struct {
	// Stored is the number of entries newly stored.
	Stored int
	// Heads are the chain heads after the append, per service touched.
	Heads map[string]Link
}

// Filter selects entries; zero fields match everything.
type Filter struct {
	Service      string
	SubjectID    string
	ResourceType string
	ResourceID   string
	Action       string
	Decision     string
	Revision     int64
	// Since is inclusive, Until exclusive.
	Since, Until time.Time
	// Limit is the page size (DefaultPageSize when 0, capped at
	// MaxPageSize).
	Limit int
	// PageToken is Page.Next of the previous page.
	PageToken string
}

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// Page is one page of query results.
type Page struct {
	Entries []Entry
	// Next fetches the following page; empty on the last.
	Next string
}
