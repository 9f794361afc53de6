// Package sqlite is the default CA store: one SQLite file (pure Go driver,
// modernc.org/sqlite) in WAL mode. Writes go through a single connection so
// that transactions serialize without SQLITE_BUSY storms; reads use a
// separate pool so OCSP lookups never queue behind issuance.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"sync"
	"time"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/verdict-authz/verdict/pki/store"
)

// Store implements store.Store on an SQLite file.
type Store struct {
	w, r      *sql.DB
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and applies the
// schema. It returns once the database is usable.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite store: invalid path %q", path)
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath()
	w, err := sql.Open("sqlite", base+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	w.SetMaxOpenConns(1)
	if err := migrate(ctx, w); err != nil {
		_ = w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", base+"?_pragma=busy_timeout(10000)&_pragma=query_only(1)")
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	if err := r.PingContext(ctx); err != nil {
		_ = w.Close()
		_ = r.Close()
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	return &Store{w: w, r: r}, nil
}

const schema = `
CREATE TABLE IF NOT EXISTS certificates (
	serial            TEXT PRIMARY KEY,
	service           TEXT NOT NULL,
	subject           TEXT NOT NULL,
	sans              TEXT NOT NULL,
	profile           TEXT NOT NULL,
	not_before        INTEGER NOT NULL,
	not_after         INTEGER NOT NULL,
	status            TEXT NOT NULL,
	revoked_at        INTEGER,
	revocation_reason INTEGER,
	pem               TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS certificates_status_not_after ON certificates(status, not_after);
CREATE INDEX IF NOT EXISTS certificates_service ON certificates(service);
CREATE TABLE IF NOT EXISTS join_tokens (
	hash            BLOB PRIMARY KEY,
	service         TEXT NOT NULL,
	profile         TEXT NOT NULL,
	sans            TEXT NOT NULL,
	lifetime_ns     INTEGER NOT NULL,
	created_by      TEXT NOT NULL,
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL,
	redeemed_at     INTEGER,
	redeemed_serial TEXT
);
CREATE INDEX IF NOT EXISTS join_tokens_expires_at ON join_tokens(expires_at);
`

func migrate(ctx context.Context, db *sql.DB) error {
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("sqlite store: schema: %w", err)
	}
	return nil
}

// sans is the JSON column layout for subject alternative names.
type sans struct {
	URIs []string `json:"uris,omitempty"`
	DNS  []string `json:"dns,omitempty"`
	IPs  []string `json:"ips,omitempty"`
}

func serialKey(s *big.Int) (string, error) {
	if s == nil || s.Sign() <= 0 {
		return "", fmt.Errorf("sqlite store: invalid serial %v", s)
	}
	return s.Text(16), nil
}

func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func isConstraint(err error) bool {
	var e *sqlitedrv.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// InsertCertificate implements store.Store.
func (s *Store) InsertCertificate(ctx context.Context, c store.Certificate) error {
	return insertCertificate(ctx, s.w, c)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertCertificate(ctx context.Context, db execer, c store.Certificate) error {
	key, err := serialKey(c.Serial)
	if err != nil {
		return err
	}
	js, err := json.Marshal(sans{URIs: c.URIs, DNS: c.DNSNames, IPs: c.IPAddresses})
	if err != nil {
		return fmt.Errorf("sqlite store: %w", err)
	}
	status := c.Status
	if status == "" {
		status = store.StatusGood
	}
	var revokedAt, reason any
	if status == store.StatusRevoked {
		revokedAt, reason = nanos(c.RevokedAt), c.RevocationReason
	}
	_, err = db.ExecContext(ctx, `INSERT INTO certificates
		(serial, service, subject, sans, profile, not_before, not_after, status, revoked_at, revocation_reason, pem)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		key, c.Service, c.Subject, string(js), c.Profile, nanos(c.NotBefore), nanos(c.NotAfter),
		string(status), revokedAt, reason, string(c.PEM))
	if err != nil {
		if isConstraint(err) {
			return fmt.Errorf("%w: serial %s", store.ErrDuplicate, key)
		}
		return fmt.Errorf("sqlite store: insert certificate: %w", err)
	}
	return nil
}

const certColumns = `serial, service, subject, sans, profile, not_before, not_after, status, revoked_at, revocation_reason, pem`

type scanner interface{ Scan(dest ...any) error }

func scanCertificate(row scanner) (store.Certificate, error) {
	var (
		c                     store.Certificate
		serial, js, st, pem   string
		nb, na                int64
		revokedAt, revokedWhy sql.NullInt64
	)
	if err := row.Scan(&serial, &c.Service, &c.Subject, &js, &c.Profile, &nb, &na, &st, &revokedAt, &revokedWhy, &pem); err != nil {
		return c, err
	}
	n, ok := new(big.Int).SetString(serial, 16)
	if !ok {
		return c, fmt.Errorf("sqlite store: corrupt serial %q", serial)
	}
	var s sans
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		return c, fmt.Errorf("sqlite store: corrupt sans for %s: %w", serial, err)
	}
	c.Serial, c.URIs, c.DNSNames, c.IPAddresses = n, s.URIs, s.DNS, s.IPs
	c.NotBefore, c.NotAfter = fromNanos(nb), fromNanos(na)
	c.Status, c.PEM = store.Status(st), []byte(pem)
	if revokedAt.Valid {
		c.RevokedAt = fromNanos(revokedAt.Int64)
		c.RevocationReason = int(revokedWhy.Int64)
	}
	return c, nil
}

// Certificate implements store.Store.
func (s *Store) Certificate(ctx context.Context, serial *big.Int) (store.Certificate, error) {
	key, err := serialKey(serial)
	if err != nil {
		return store.Certificate{}, fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	c, err := scanCertificate(s.r.QueryRowContext(ctx, `SELECT `+certColumns+` FROM certificates WHERE serial = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: serial %s", store.ErrNotFound, key)
	}
	if err != nil {
		return c, fmt.Errorf("sqlite store: %w", err)
	}
	return c, nil
}

// ListCertificates implements store.Store.
func (s *Store) ListCertificates(ctx context.Context, f store.Filter) ([]store.Certificate, error) {
	q := `SELECT ` + certColumns + ` FROM certificates WHERE 1=1`
	var args []any
	if f.Service != "" {
		q += ` AND service = ?`
		args = append(args, f.Service)
	}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	// rowid grows with every insert (rows are never deleted), so it orders
	// by issuance.
	q += ` ORDER BY rowid DESC`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return s.query(ctx, q, args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]store.Certificate, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	defer rows.Close()
	var out []store.Certificate
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite store: %w", err)
	}
	return out, nil
}

// Revoke implements store.Store.
func (s *Store) Revoke(ctx context.Context, serial *big.Int, at time.Time, reason int) (store.Certificate, error) {
	key, err := serialKey(serial)
	if err != nil {
		return store.Certificate{}, fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.Certificate{}, fmt.Errorf("sqlite store: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	c, err := scanCertificate(tx.QueryRowContext(ctx, `SELECT `+certColumns+` FROM certificates WHERE serial = ?`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("%w: serial %s", store.ErrNotFound, key)
	}
	if err != nil {
		return c, fmt.Errorf("sqlite store: %w", err)
	}
	if c.Status == store.StatusRevoked {
		return c, fmt.Errorf("%w: serial %s", store.ErrAlreadyRevoked, key)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE certificates SET status = ?, revoked_at = ?, revocation_reason = ? WHERE serial = ?`,
		string(store.StatusRevoked), nanos(at), reason, key); err != nil {
		return c, fmt.Errorf("sqlite store: revoke: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return c, fmt.Errorf("sqlite store: revoke: %w", err)
	}
	c.Status, c.RevokedAt, c.RevocationReason = store.StatusRevoked, at.UTC(), reason
	return c, nil
}

// RevokedUnexpired implements store.Store.
func (s *Store) RevokedUnexpired(ctx context.Context, now time.Time) ([]store.Certificate, error) {
	return s.query(ctx, `SELECT `+certColumns+` FROM certificates WHERE status = ? AND not_after > ? ORDER BY rowid`,
		string(store.StatusRevoked), nanos(now))
}

// CountExpiring implements store.Store.
func (s *Store) CountExpiring(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM certificates WHERE status = ? AND not_after >= ? AND not_after < ?`,
		string(store.StatusGood), nanos(from), nanos(to)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite store: %w", err)
	}
	return n, nil
}

// InsertJoinToken implements store.Store.
func (s *Store) InsertJoinToken(ctx context.Context, t store.JoinToken) error {
	js, err := json.Marshal(sans{DNS: t.DNSNames, IPs: t.IPAddresses})
	if err != nil {
		return fmt.Errorf("sqlite store: %w", err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO join_tokens
		(hash, service, profile, sans, lifetime_ns, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Hash[:], t.Service, t.Profile, string(js), int64(t.Lifetime), t.CreatedBy, nanos(t.CreatedAt), nanos(t.ExpiresAt))
	if err != nil {
		if isConstraint(err) {
			return fmt.Errorf("%w: join token", store.ErrDuplicate)
		}
		return fmt.Errorf("sqlite store: insert join token: %w", err)
	}
	return nil
}

// RedeemJoinToken implements store.Store. The write connection is exclusive
// and transactions start with BEGIN IMMEDIATE, so the check-then-mark below
// cannot interleave with another redemption.
func (s *Store) RedeemJoinToken(ctx context.Context, hash [32]byte, now time.Time, issue store.IssueFunc) (store.Certificate, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return store.Certificate{}, fmt.Errorf("sqlite store: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var (
		t          store.JoinToken
		js         string
		lifetime   int64
		created    int64
		expires    int64
		redeemedAt sql.NullInt64
	)
	err = tx.QueryRowContext(ctx, `SELECT service, profile, sans, lifetime_ns, created_by, created_at, expires_at, redeemed_at
		FROM join_tokens WHERE hash = ?`, hash[:]).
		Scan(&t.Service, &t.Profile, &js, &lifetime, &t.CreatedBy, &created, &expires, &redeemedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Certificate{}, store.ErrTokenNotFound
	}
	if err != nil {
		return store.Certificate{}, fmt.Errorf("sqlite store: %w", err)
	}
	if redeemedAt.Valid {
		return store.Certificate{}, store.ErrTokenUsed
	}
	if !now.Before(fromNanos(expires)) {
		return store.Certificate{}, store.ErrTokenExpired
	}
	var sa sans
	if err := json.Unmarshal([]byte(js), &sa); err != nil {
		return store.Certificate{}, fmt.Errorf("sqlite store: corrupt join token: %w", err)
	}
	t.Hash, t.DNSNames, t.IPAddresses = hash, sa.DNS, sa.IPs
	t.Lifetime, t.CreatedAt, t.ExpiresAt = time.Duration(lifetime), fromNanos(created), fromNanos(expires)

	c, err := issue(t)
	if err != nil {
		return store.Certificate{}, err
	}
	key, err := serialKey(c.Serial)
	if err != nil {
		return store.Certificate{}, err
	}
	res, err := tx.ExecContext(ctx, `UPDATE join_tokens SET redeemed_at = ?, redeemed_serial = ? WHERE hash = ? AND redeemed_at IS NULL`,
		nanos(now), key, hash[:])
	if err != nil {
		return store.Certificate{}, fmt.Errorf("sqlite store: redeem: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return store.Certificate{}, store.ErrTokenUsed
	}
	if err := insertCertificate(ctx, tx, c); err != nil {
		return store.Certificate{}, err
	}
	if err := tx.Commit(); err != nil {
		return store.Certificate{}, fmt.Errorf("sqlite store: redeem: %w", err)
	}
	return c, nil
}

// DeleteExpiredJoinTokens implements store.Store.
func (s *Store) DeleteExpiredJoinTokens(ctx context.Context, now time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM join_tokens WHERE expires_at <= ?`, nanos(now))
	if err != nil {
		return 0, fmt.Errorf("sqlite store: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = errors.Join(s.r.Close(), s.w.Close())
	})
	return s.closeErr
}
