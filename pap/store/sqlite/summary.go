package sqlite

import (
	"database/sql"

	"github.com/verdict-authz/verdict/pap/store"
)

// summaryColumns are the revisions columns a summaryRow scans, in order.
const summaryColumns = `service, revision, parent, rollback_of, digest, author, message, created_at`

// summaryRow receives summaryColumns from a query and turns them into a
// store.Summary; revisions, listings and the change log share it.
type summaryRow struct {
	sum        store.Summary
	rollbackOf sql.NullInt64
	created    int64
}

// dest returns the Scan destinations for summaryColumns.
func (r *summaryRow) dest() []any {
	return []any{&r.sum.Service, &r.sum.Number, &r.sum.Parent, &r.rollbackOf,
		&r.sum.Digest, &r.sum.Author, &r.sum.Message, &r.created}
}

// summary returns the scanned summary.
func (r *summaryRow) summary() store.Summary {
	sum := r.sum
	sum.RollbackOf = r.rollbackOf.Int64
	sum.CreatedAt = fromMicros(r.created)
	return sum
}
