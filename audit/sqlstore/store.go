package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// Append implements audit.Store. Inside one transaction it locks the
// chains of the batch's services (in name order, so concurrent collectors
// cannot deadlock), reads their heads, skips decision ids already stored,
// chains the rest and inserts them with multi-row INSERTs: one round trip
// per few hundred records rather than per record.
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
	var services []string
	for _, e := range entries {
		services = append(services, e.Service)
	}
	slices.Sort(services)
	for _, svc := range slices.Compact(services) {
		if res.Heads[svc], err = s.head(ctx, tx, svc); err != nil {
			return res, err
		}
	}
	seen, err := s.existing(ctx, tx, entries)
	if err != nil {
		return res, err
	}
	fresh := make([]audit.Entry, 0, len(entries))
	for _, e := range entries {
		if seen[e.DecisionID] {
			continue
		}
		seen[e.DecisionID] = true
		res.Heads[e.Service] = audit.Chain(res.Heads[e.Service], &e)
		fresh = append(fresh, e)
	}
	const rowsPerInsert = 200 // 13 parameters each: within every driver's limit
	for chunk := range slices.Chunk(fresh, rowsPerInsert) {
		q := `INSERT INTO decisions (` + columns + `) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?),", len(chunk)), ",")
		args := make([]any, 0, 13*len(chunk))
		for _, e := range chunk {
			args = append(args, e.DecisionID, e.Service, e.Seq, e.PrevHash, e.Hash, e.Time.UnixNano(),
				e.SubjectID, e.ResourceType, e.ResourceID, e.Action, e.Decision, e.Revision, string(e.Data))
		}
		if _, err := tx.ExecContext(ctx, s.d.rebind(q), args...); err != nil {
			return res, fmt.Errorf("audit %s: insert: %w", s.d.name, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("audit %s: commit: %w", s.d.name, err)
	}
	res.Stored = len(fresh)
	return res, nil
}

// existing returns which of the entries' decision ids are already stored.
func (s *Store) existing(ctx context.Context, tx *sql.Tx, entries []audit.Entry) (map[string]bool, error) {
	seen := make(map[string]bool, len(entries))
	const idsPerQuery = 500
	for chunk := range slices.Chunk(entries, idsPerQuery) {
		args := make([]any, len(chunk))
		for i, e := range chunk {
			args[i] = e.DecisionID
		}
		q := `SELECT decision_id FROM decisions WHERE decision_id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + `)`
		rows, err := tx.QueryContext(ctx, s.d.rebind(q), args...)
		if err != nil {
			return nil, fmt.Errorf("audit %s: existing: %w", s.d.name, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("audit %s: existing: %w", s.d.name, err)
			}
			seen[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("audit %s: existing: %w", s.d.name, err)
		}
	}
	return seen, nil
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
	// A service whose records retention removed entirely still has a
	// chain to verify: its tombstones.
	rows, err := s.db.QueryContext(ctx, `SELECT service FROM decisions UNION SELECT service FROM tombstones ORDER BY 1`)
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
