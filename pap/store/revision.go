package store

import "time"

// Draft is what a caller asks Create to store. The store fills in the
// revision number, digest and creation time so that callers cannot forge
// them. Text fields (here and in Content) must be valid UTF-8 without NUL,
// so that every backend can keep them exactly.
type Draft struct {
	// Service names the service the revision belongs to; it must match
	// [a-z0-9][a-z0-9-]{0,62} (a valid NATS subject token).
	Service string
	// Parent is the head revision the caller read and based this draft on;
	// 0 for the first revision of a service. Create refuses with
	// ErrConflict when it is no longer the head.
	Parent int64
	// RollbackOf, when not 0, marks the draft as a rollback that restores
	// the content of that earlier revision; it must exist (at most
	// Parent). The store records the marker and does not compare contents:
	// the PAP may recompile the old sources with a newer compiler.
	RollbackOf int64
	// Content is what the revision holds.
	Content Content
	// Author identifies who pushed (the authenticated principal).
	Author string
	// Message is the author's free-text reason for the change.
	Message string
}

// Summary describes a revision without its content: what listings and the
// change log need, without loading compiled policies.
type Summary struct {
	// Service is the service the revision belongs to.
	Service string
	// Number is the revision number: 1 for the first, then +1 each push.
	Number int64
	// Parent is the revision this one replaced as head (Number-1; 0 for
	// the first).
	Parent int64
	// RollbackOf is the revision whose content this one restores, 0 when
	// it is an ordinary push.
	RollbackOf int64
	// Digest is Content.Digest() of the revision's content.
	Digest string
	// Author identifies who pushed.
	Author string
	// Message is the author's reason for the change.
	Message string
	// CreatedAt is when the store accepted the revision, in UTC with
	// microsecond precision (what every backend can keep exactly).
	CreatedAt time.Time
}

// Action tells a push from a rollback, the two kinds of change a revision
// records.
func (s Summary) Action() Action {
	if s.RollbackOf != 0 {
		return ActionRollback
	}
	return ActionPush
}

// Revision is one immutable, stored version of a service's policies.
type Revision struct {
	Summary
	// Content is what the revision holds, in canonical form.
	Content Content
}

// Service is a service the store knows, with its head, so that status views
// need not load every service's latest revision.
type Service struct {
	// Name is the service name.
	Name string
	// Head is the number of the service's latest revision.
	Head int64
	// UpdatedAt is when the head revision was created.
	UpdatedAt time.Time
}
