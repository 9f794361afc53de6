package sqlstore

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/verdict-authz/verdict/audit"
)

// Query implements audit.Store: newest first, ordered by (time,
// decision id), with a keyset cursor so that pages stay stable while new
// records are ingested.
func (s *Store) Query(ctx context.Context, f audit.Filter) (audit.Page, error) {
	if err := s.check(); err != nil {
		return audit.Page{}, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = audit.DefaultPageSize
	}
	limit = min(limit, audit.MaxPageSize)
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	for col, v := range map[string]string{
		"service": f.Service, "subject_id": f.SubjectID, "resource_type": f.ResourceType,
		"resource_id": f.ResourceID, "action": f.Action, "decision": f.Decision,
	} {
		if v != "" {
			add(col+" = ?", v)
		}
	}
	if f.Revision != 0 {
		add("revision = ?", f.Revision)
	}
	if !f.Since.IsZero() {
		add("time_ns >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("time_ns < ?", f.Until.UnixNano())
	}
	if f.PageToken != "" {
		ns, id, err := decodeCursor(f.PageToken)
		if err != nil {
			return audit.Page{}, err
		}
		where = append(where, "(time_ns < ? OR (time_ns = ? AND decision_id < ?))")
		args = append(args, ns, ns, id)
	}
	q := `SELECT ` + columns + ` FROM decisions`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time_ns DESC, decision_id DESC LIMIT " + strconv.Itoa(limit+1)
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q), args...)
	if err != nil {
		return audit.Page{}, fmt.Errorf("audit %s: query: %w", s.d.name, err)
	}
	defer rows.Close()
	var p audit.Page
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return audit.Page{}, fmt.Errorf("audit %s: query: %w", s.d.name, err)
		}
		p.Entries = append(p.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return audit.Page{}, fmt.Errorf("audit %s: query: %w", s.d.name, err)
	}
	if len(p.Entries) > limit {
		p.Entries = p.Entries[:limit]
		last := p.Entries[limit-1]
		p.Next = encodeCursor(last.Time.UnixNano(), last.DecisionID)
	}
	return p, nil
}

func encodeCursor(ns int64, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(ns, 10) + ":" + id))
}

func decodeCursor(tok string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, "", fmt.Errorf("%w: page token", audit.ErrInvalid)
	}
	nsText, id, ok := strings.Cut(string(b), ":")
	ns, err := strconv.ParseInt(nsText, 10, 64)
	if !ok || err != nil {
		return 0, "", fmt.Errorf("%w: page token", audit.ErrInvalid)
	}
	return ns, id, nil
}
