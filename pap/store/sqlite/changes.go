package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/verdict-authz/verdict/pap/store"
)

// Changes returns one page of the change log, newest first. Each revision
// is one change; its seq (assigned in commit order, since all writes are
// serialised) is the change ID.
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
	if q.Service != "" {
		where, args = append(where, "service = ?"), append(args, q.Service)
	}
	if q.Author != "" {
		where, args = append(where, "author = ?"), append(args, q.Author)
	}
	switch q.Action {
	case store.ActionPush:
		where = append(where, "rollback_of IS NULL")
	case store.ActionRollback:
		where = append(where, "rollback_of IS NOT NULL")
	}
	if !q.Since.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, ceilMicros(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, ceilMicros(q.Until))
	}
	if q.Page.Before != 0 {
		where, args = append(where, "seq < ?"), append(args, q.Page.Before)
	}
	query := `SELECT seq, ` + summaryColumns + ` FROM revisions`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, " AND ")
	}
	query += ` ORDER BY seq DESC LIMIT ?`
	args = append(args, size+1) // one extra row tells whether another page follows

	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return store.Page[store.Change]{}, err
	}
	defer rows.Close()
	var items []store.Change
	for rows.Next() {
		var (
			id  int64
			row summaryRow
		)
		if err := rows.Scan(append([]any{&id}, row.dest()...)...); err != nil {
			return store.Page[store.Change]{}, err
		}
		sum := row.summary()
		items = append(items, store.Change{ID: id, Action: sum.Action(), Summary: sum})
	}
	if err := rows.Err(); err != nil {
		return store.Page[store.Change]{}, err
	}
	result := store.Page[store.Change]{Items: items}
	if len(items) > size {
		result.Items = items[:size]
		result.Next = items[size-1].ID
	}
	return result, nil
}

// ceilMicros returns t in Unix microseconds, rounded up: created_at keeps
// microseconds, and rounding a bound down would let in a change made
// before Since or drop one made just before Until.
func ceilMicros(t time.Time) int64 {
	us := t.UnixMicro()
	if time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}
