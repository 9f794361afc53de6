package sqlstore

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/verdict-authz/verdict/audit"
)

// Retain implements audit.Store.
func (s *Store) Retain(ctx context.Context, t audit.Tombstone) error {
	if err := s.check(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("audit %s: begin: %w", s.d.name, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM decisions WHERE service = ? AND seq >= ? AND seq <= ?`), t.Service, t.First, t.Last); err != nil {
		return fmt.Errorf("audit %s: retain: %w", s.d.name, err)
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO tombstones (service, first_seq, last_seq, last_hash, time_ns, key_id, signature) VALUES (?,?,?,?,?,?,?)`),
		t.Service, t.First, t.Last, t.LastHash, t.Time.UnixNano(), t.KeyID, base64.StdEncoding.EncodeToString(t.Signature)); err != nil {
		return fmt.Errorf("audit %s: retain: %w", s.d.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("audit %s: retain: %w", s.d.name, err)
	}
	return nil
}

// Tombstones implements audit.Store.
func (s *Store) Tombstones(ctx context.Context, service string) ([]audit.Tombstone, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT service, first_seq, last_seq, last_hash, time_ns, key_id, signature FROM tombstones WHERE service = ? ORDER BY first_seq`), service)
	if err != nil {
		return nil, fmt.Errorf("audit %s: tombstones: %w", s.d.name, err)
	}
	defer rows.Close()
	var out []audit.Tombstone
	for rows.Next() {
		var t audit.Tombstone
		var ns int64
		var sig string
		if err := rows.Scan(&t.Service, &t.First, &t.Last, &t.LastHash, &ns, &t.KeyID, &sig); err != nil {
			return nil, fmt.Errorf("audit %s: tombstones: %w", s.d.name, err)
		}
		t.Time = time.Unix(0, ns).UTC()
		// A signature that does not decode fails verification, as it should.
		t.Signature, _ = base64.StdEncoding.DecodeString(sig)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit %s: tombstones: %w", s.d.name, err)
	}
	return out, nil
}
