package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/verdict-authz/verdict/pap/store"
)

// Changes returns one page of the change log, newest first. Each revision
// is one change; its seq is the change ID.
func (s *Store) Changes(ctx context.Context, q store.ChangeQuery) (store.Page[store.Change], error) {
	if err := s.open(); err != nil {
		return store.Page[store.Change]{}, err
	}
	if err := q.Validate(); err != nil {
		return store.Page[store.Change]{}, err
	}
	size, _ := q.Page.Size() // validated above
	result, err := s.changes(ctx, q, size)
	if err != nil {
		return store.Page[store.Change]{}, fmt.Errorf("query change log: %w", err)
	}
	return result, nil
}

func (s *Store) changes(ctx context.Context, q store.ChangeQuery, size int) (store.Page[store.Change], error) {
	var (
		where []string
		args  []any
	)
	// arg adds a bind parameter and returns its placeholder.
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Service != "" {
		where = append(where, "service = "+arg(q.Service))
	}
	if q.Author != "" {
		where = append(where, "author = "+arg(q.Author))
	}
	switch q.Action {
	case store.ActionPush:
		where = append(where, "rollback_of IS NULL")
	case store.ActionRollback:
		where = append(where, "rollback_of IS NOT NULL")
	}
	if !q.Since.IsZero() {
		where = append(where, "created_at >= "+arg(ceilMicro(q.Since)))
	}
	if !q.Until.IsZero() {
		where = append(where, "created_at < "+arg(ceilMicro(q.Until)))
	}
	if q.Page.Before != 0 {
		where = append(where, "seq < "+arg(q.Page.Before))
	}
	query := `SELECT seq, ` + summaryColumns + ` FROM revisions`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	// One extra row tells whether another page follows.
	query += ` ORDER BY seq DESC LIMIT ` + arg(size+1)

	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return store.Page[store.Change]{}, err
	}
	var (
		id    int64
		row   summaryRow
		items []store.Change
	)
	if _, err := pgx.ForEachRow(rows, append([]any{&id}, row.dest()...), func() error {
		sum := row.summary()
		items = append(items, store.Change{ID: id, Action: sum.Action(), Summary: sum})
		return nil
	}); err != nil {
		return store.Page[store.Change]{}, err
	}
	result := store.Page[store.Change]{Items: items}
	if len(items) > size {
		result.Items = items[:size]
		result.Next = items[size-1].ID
	}
	return result, nil
}
