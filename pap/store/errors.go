package store

import "errors"

// Sentinel errors let callers (the admin API, the CLI) map store failures to
// their own status codes with errors.Is, whichever backend produced them.
// Backends wrap them with the detail (service, revision, field) using %w.
var (
	// ErrNotFound reports that the requested service or revision does not
	// exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict reports that the head of a service moved since the caller
	// read it: the caller should reload, rebase and try again.
	ErrConflict = errors.New("conflict: head revision has moved")
	// ErrInvalid reports a request the store refuses to run whatever the
	// database holds: a malformed service name, an empty draft, a bad page
	// size.
	ErrInvalid = errors.New("invalid argument")
	// ErrClosed reports a call made after Close.
	ErrClosed = errors.New("store is closed")
)
