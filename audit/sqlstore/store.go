package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/verdict-authz/verdict/audit"
)

// Store is an audit.Store over one SQL database.
type Store struct {
	db     *sql.DB
	d      dialect
	mu     sync.Mutex
	closed bool
}

var _ audit.Store = (*Store)(nil)

const columns = `decision_id, service, seq, prev_hash, hash, time_ns, subject_id, resource_type, resource_id, action, decision, revision, data`

// Append implements audit.Store.
func (s *Store) Append(ctx context.Context, entries []audit.Entry) (audit.AppendResult, error) {
	res := audit.AppendResult{Heads: map[string]audit.Link{}}
	if err := s.check(); err != nil {
		return res, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("audit %s: begin: %w", s.d.name, err)
	}
	defer func() { _ = tx.Rollback() }()
	insert, err := tx.PrepareContext(ctx, s.d.rebind(`INSERT INTO decisions (`+columns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (decision_id) DO NOTHING`))
	if err != nil {
		return res, fmt.Errorf("audit %s: prepare: %w", s.d.name, err)
	}
	defer insert.Close()
	stored := 0
	for _, e := range entries {
		head, ok := res.Heads[e.Service]
		if !ok {
			if head, err = s.head(ctx, tx, e.Service); err != nil {
				return res, err
			}
		}
		next := audit.Chain(head, &e)
		r, err := insert.ExecContext(ctx, e.DecisionID, e.Service, e.Seq, e.PrevHash, e.Hash, e.Time.UnixNano(),
			e.SubjectID, e.ResourceType, e.ResourceID, e.Action, e.Decision, e.Revision, string(e.Data))
		if err != nil {
			return res, fmt.Errorf("audit %s: insert %s: %w", s.d.name, e.DecisionID, err)
		}
		if n, err := r.RowsAffected(); err != nil {
			return res, fmt.Errorf("audit %s: insert %s: %w", s.d.name, e.DecisionID, err)
		} else if n == 1 {
			head = next
			stored++
		}
		res.Heads[e.Service] = head
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("audit %s: commit: %w", s.d.name, err)
	}
	res.Stored = stored
	return res, nil
}

// head returns service's chain head inside tx, after taking the service's
// append lock where the dialect needs one.
func (s *Store) head(ctx context.Context, tx *sql.Tx, service string) (audit.Link, error) {
	if s.d.lockService != "" {
		if _, err := tx.ExecContext(ctx, s.d.rebind(s.d.lockService), service); err != nil {
			return audit.Link{}, fmt.Errorf("audit %s: lock %s: %w", s.d.name, service, err)
		}
	}
	var l audit.Link
	err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT seq, hash FROM decisions WHERE service = ? ORDER BY seq DESC LIMIT 1`), service).Scan(&l.Seq, &l.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Link{}, nil
	}
	if err != nil {
		return l, fmt.Errorf("audit %s: head of %s: %w", s.d.name, service, err)
	}
	return l, nil
}

// Get implements audit.Store.
func (s *Store) Get(ctx context.Context, id string) (audit.Entry, error) {
	if err := s.check(); err != nil {
		return audit.Entry{}, err
	}
	row := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+columns+` FROM decisions WHERE decision_id = ?`), id)
	e, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("%w: decision %s", audit.ErrNotFound, id)
	}
	if err != nil {
		return e, fmt.Errorf("audit %s: get %s: %w", s.d.name, id, err)
	}
	return e, nil
}

// Scan implements audit.Store.
func (s *Store) Scan(ctx context.Context, service string, fn func(audit.Entry) error) error {
	if err := s.check(); err != nil {
		return err
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+columns+` FROM decisions WHERE service = ? ORDER BY seq`), service)
	if err != nil {
		return fmt.Errorf("audit %s: scan %s: %w", s.d.name, service, err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return fmt.Errorf("audit %s: scan %s: %w", s.d.name, service, err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit %s: scan %s: %w", s.d.name, service, err)
	}
	return nil
}

// Services implements audit.Store.
func (s *Store) Services(ctx context.Context) ([]string, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT service FROM decisions ORDER BY service`)
	if err != nil {
		return nil, fmt.Errorf("audit %s: services: %w", s.d.name, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("audit %s: services: %w", s.d.name, err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit %s: services: %w", s.d.name, err)
	}
	return out, nil
}

// Count implements audit.Store.
func (s *Store) Count(ctx context.Context, service string) (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	var n int64
	var err error
	if service == "" {
		err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM decisions`).Scan(&n)
	} else {
		err = s.db.QueryRowContext(ctx, s.d.rebind(`SELECT COUNT(*) FROM decisions WHERE service = ?`), service).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("audit %s: count: %w", s.d.name, err)
	}
	return n, nil
}

// DB exposes the database, for tests that tamper with stored records to
// prove that Verify notices.
func (s *Store) DB() *sql.DB { return s.db }

// Close implements audit.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.db.Close()
}

func (s *Store) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return audit.ErrClosed
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scan(r scanner) (audit.Entry, error) {
	var e audit.Entry
	var ns int64
	var data string
	err := r.Scan(&e.DecisionID, &e.Service, &e.Seq, &e.PrevHash, &e.Hash, &ns, &e.SubjectID, &e.ResourceType,
		&e.ResourceID, &e.Action, &e.Decision, &e.Revision, &data)
	e.Time = time.Unix(0, ns).UTC()
	e.Data = []byte(data)
	return e, err
}
