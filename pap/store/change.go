package store

import "time"

// Action is the kind of change a revision records, as shown in the change
// log.
type Action string

// The actions a change can have.
const (
	// ActionPush is an ordinary push of new policies.
	ActionPush Action = "push"
	// ActionRollback is a push that restores an earlier revision's content.
	ActionRollback Action = "rollback"
)

// Change is one entry of the change log: who pushed which revision of which
// service, when and why.
type Change struct {
	// ID orders changes across services (larger is later) and is the
	// cursor for ChangeQuery.Page.Before.
	ID int64
	// Action is push or rollback.
	Action Action
	Summary
}

// ChangeQuery selects change-log entries. Zero-valued fields do not filter,
// so the zero ChangeQuery returns the most recent changes of every service.
type ChangeQuery struct {
	// Service keeps only changes of this service.
	Service string
	// Author keeps only changes by this author (exact match).
	Author string
	// Action keeps only changes of this kind.
	Action Action
	// Since keeps only changes created at or after this time.
	Since time.Time
	// Until keeps only changes created strictly before this time.
	Until time.Time
	// Page limits the result; Page.Before is a Change.ID.
	Page PageOptions
}
