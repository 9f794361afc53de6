// Package store defines the PAP's revision store: every policy push becomes
// an immutable, numbered revision of one service, and the sequence of those
// revisions is the change log auditors read.
//
// The package holds only the contract (the Store interface, its value types,
// validation and sentinel errors) so that the PAP depends on behaviour, not
// on a database. Backends live in sub-packages: sqlite (the default, one file
// on disk) and postgres (for PAPs that share a server). Both pass the suite in
// storetest, which is the executable form of this contract.
package store

import "context"

// Store keeps the revisions of every service. Implementations are safe for
// concurrent use by multiple goroutines, and — through the database's own
// locking — by multiple processes sharing one database.
//
// Errors match ErrInvalid, ErrNotFound, ErrConflict or ErrClosed with
// errors.Is when they have those causes; anything else is a storage failure.
type Store interface {
	// Create stores the draft as the next revision of its service and
	// returns it. The store assigns the number (head + 1) atomically and
	// refuses with ErrConflict when draft.Parent is not the current head,
	// so that two authors working from the same head cannot silently
	// overwrite each other. Nothing is stored when Create fails.
	Create(ctx context.Context, draft Draft) (Revision, error)
	// Get returns one revision with its content, so that a PDP bundle or a
	// rollback can be rebuilt from it. ErrNotFound when it does not exist.
	Get(ctx context.Context, service string, number int64) (Revision, error)
	// Latest returns the head revision of a service: what its PDPs should
	// be running. ErrNotFound when the service has no revision.
	Latest(ctx context.Context, service string) (Revision, error)
	// List returns the revisions of a service without their content,
	// newest first, one page at a time. ErrNotFound when the service has
	// no revision.
	List(ctx context.Context, service string, page PageOptions) (Page[Summary], error)
	// Services returns every service with at least one revision, sorted by
	// name, so that operators can see what the PAP manages.
	Services(ctx context.Context) ([]Service, error)
	// Changes answers "who pushed what, when" across services, newest
	// first, one page at a time.
	Changes(ctx context.Context, query ChangeQuery) (Page[Change], error)
	// Close releases the database. It is safe to call more than once;
	// every other method fails with ErrClosed afterwards.
	Close() error
}
