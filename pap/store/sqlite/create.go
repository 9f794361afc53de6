package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/verdict-authz/verdict/pap/store"
)

// Create stores the draft as the next revision of its service. The whole
// insert is one IMMEDIATE transaction on the single writer connection: the
// head is read and advanced under the database's write lock, so the
// revision number is head+1 with no gap or duplicate, and nothing remains
// when any step fails.
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
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var head int64
	err = tx.QueryRowContext(ctx, `SELECT head FROM services WHERE name = ?`, rev.Service).Scan(&head)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if head != rev.Parent {
		return fmt.Errorf("%w: the draft's parent is revision %d but the head is %d", store.ErrConflict, rev.Parent, head)
	}

	rev.CreatedAt = now()
	created := rev.CreatedAt.UnixMicro()
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO services (name, head, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET head = excluded.head, updated_at = excluded.updated_at`,
		rev.Service, rev.Number, created); err != nil {
		return err
	}
	var rollbackOf sql.NullInt64
	if rev.RollbackOf != 0 {
		rollbackOf = sql.NullInt64{Int64: rev.RollbackOf, Valid: true}
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO revisions (service, revision, parent, rollback_of, root_policy_id, digest, author, message, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rev.Service, rev.Number, rev.Parent, rollbackOf, rev.Content.RootPolicyID, rev.Digest,
		rev.Author, rev.Message, rev.Content.Data, created); err != nil {
		return err
	}
	for _, src := range rev.Content.Sources {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO revision_sources (service, revision, name, format, content) VALUES (?, ?, ?, ?, ?)`,
			rev.Service, rev.Number, src.Name, src.Format, nonNil(src.Content)); err != nil {
			return err
		}
	}
	for path, source := range rev.Content.Rego {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO revision_rego (service, revision, path, source) VALUES (?, ?, ?, ?)`,
			rev.Service, rev.Number, path, source); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// nonNil turns an empty file's nil content into an empty BLOB, since the
// column is NOT NULL: an empty file is still a file.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
