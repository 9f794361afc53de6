package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/verdict-authz/verdict/pap/store"
)

// Create stores the draft as the next revision of its service, in one
// transaction: the service's head row is advanced from draft.Parent to
// draft.Parent+1 only if it still is draft.Parent (the row lock makes a
// concurrent push wait, then see the new head and conflict), and nothing
// remains when any step fails.
func (s *Store) Create(ctx context.Context, d store.Draft) (store.Revision, error) {
	if err := s.open(); err != nil {
		return store.Revision{}, err
	}
	if err := d.Validate(); err != nil {
		return store.Revision{}, err
	}
	rev := store.Revision{Content: d.Content.Canonical()}
	rev.Service = d.Service
	rev.Parent = d.Parent
	rev.Number = d.Parent + 1
	rev.RollbackOf = d.RollbackOf
	rev.Digest = rev.Content.Digest()
	rev.Author = d.Author
	rev.Message = d.Message

	if err := s.insert(ctx, &rev); err != nil {
		return store.Revision{}, fmt.Errorf("create revision %d of service %q: %w", rev.Number, rev.Service, err)
	}
	return rev, nil
}

func (s *Store) insert(ctx context.Context, rev *store.Revision) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)

	rev.CreatedAt = now()
	if err := advanceHead(ctx, tx, rev); err != nil {
		return err
	}
	var rollbackOf *int64
	if rev.RollbackOf != 0 {
		rollbackOf = &rev.RollbackOf
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO revisions (service, revision, parent, rollback_of, root_policy_id, digest, author, message, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		rev.Service, rev.Number, rev.Parent, rollbackOf, rev.Content.RootPolicyID, rev.Digest,
		rev.Author, rev.Message, rev.Content.Data, rev.CreatedAt); err != nil {
		return err
	}

	sources := make([][]any, len(rev.Content.Sources))
	for i, src := range rev.Content.Sources {
		content := src.Content
		if content == nil {
			content = []byte{} // an empty file is still a file; the column is NOT NULL
		}
		sources[i] = []any{rev.Service, rev.Number, src.Name, src.Format, content}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"revision_sources"},
		[]string{"service", "revision", "name", "format", "content"}, pgx.CopyFromRows(sources)); err != nil {
		return err
	}
	rego := make([][]any, 0, len(rev.Content.Rego))
	for path, source := range rev.Content.Rego {
		rego = append(rego, []any{rev.Service, rev.Number, path, source})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"revision_rego"},
		[]string{"service", "revision", "path", "source"}, pgx.CopyFromRows(rego)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// advanceHead moves the service's head from rev.Parent to rev.Number, or
// returns ErrConflict when the head is not rev.Parent. For a first
// revision, a concurrent first push makes the insert wait and then do
// nothing; for later ones, the UPDATE waits on the row lock and then
// re-checks head against the committed value.
func advanceHead(ctx context.Context, tx pgx.Tx, rev *store.Revision) error {
	var (
		affected int64
		err      error
	)
	if rev.Parent == 0 {
		tag, e := tx.Exec(ctx, `INSERT INTO services (name, head, updated_at) VALUES ($1, 1, $2)
			ON CONFLICT (name) DO NOTHING`, rev.Service, rev.CreatedAt)
		affected, err = tag.RowsAffected(), e
	} else {
		tag, e := tx.Exec(ctx, `UPDATE services SET head = $2, updated_at = $3 WHERE name = $1 AND head = $4`,
			rev.Service, rev.Number, rev.CreatedAt, rev.Parent)
		affected, err = tag.RowsAffected(), e
	}
	if err != nil {
		return err
	}
	if affected == 1 {
		return nil
	}
	var head int64
	err = tx.QueryRow(ctx, `SELECT head FROM services WHERE name = $1`, rev.Service).Scan(&head)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	return fmt.Errorf("%w: the draft's parent is revision %d but the head is %d", store.ErrConflict, rev.Parent, head)
}
