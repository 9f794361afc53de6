// Package store defines where the CA keeps what it issued and the join tokens
// it handed out. The interface is small so that the default SQLite backend
// (store/sqlite) and a PostgreSQL backend share one contract and one test
// suite (store/storetest).
package store

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Errors every backend returns; callers match them with errors.Is.
var (
	// ErrNotFound means no certificate has the requested serial.
	ErrNotFound = errors.New("store: not found")
	// ErrDuplicate means a serial or token hash already exists.
	ErrDuplicate = errors.New("store: already exists")
	// ErrAlreadyRevoked means the certificate was revoked before.
	ErrAlreadyRevoked = errors.New("store: certificate already revoked")
	// ErrInvalidToken is the umbrella for every reason a join token cannot be
	// redeemed. APIs report only this, so that a caller cannot probe which
	// tokens exist; audit logs keep the precise reason below.
	ErrInvalidToken = errors.New("store: invalid join token")
	// ErrTokenNotFound means no token has this hash.
	ErrTokenNotFound = fmt.Errorf("%w: unknown", ErrInvalidToken)
	// ErrTokenExpired means the token's TTL has passed.
	ErrTokenExpired = fmt.Errorf("%w: expired", ErrInvalidToken)
	// ErrTokenUsed means the token was already redeemed.
	ErrTokenUsed = fmt.Errorf("%w: already used", ErrInvalidToken)
)

// Status is the revocation status of an issued certificate.
type Status string

// Certificate statuses.
const (
	StatusGood    Status = "good"
	StatusRevoked Status = "revoked"
)

// Certificate is one issuance record.
type Certificate struct {
	Serial      *big.Int
	Service     string
	Subject     string
	URIs        []string
	DNSNames    []string
	IPAddresses []string
	Profile     string
	NotBefore   time.Time
	NotAfter    time.Time
	Status      Status
	// RevokedAt and RevocationReason (RFC 5280 CRLReason) are set when revoked.
	RevokedAt        time.Time
	RevocationReason int
	// PEM is the issued certificate, so that CRL, OCSP and audits can be
	// rebuilt from the store alone.
	PEM []byte
}

// JoinToken is a one-time authorization to obtain a first certificate. Only
// the SHA-256 hash of the secret is stored.
type JoinToken struct {
	Hash        [32]byte
	Service     string
	Profile     string
	DNSNames    []string
	IPAddresses []string
	// Lifetime of the certificate the token yields; zero means the CA default.
	Lifetime  time.Duration
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Filter narrows ListCertificates; zero fields match everything.
type Filter struct {
	Service string
	Status  Status
	// Limit caps the number of rows; zero means no limit.
	Limit int
}

// IssueFunc signs the certificate a redeemed token authorizes. It runs inside
// the redemption transaction: if it fails, the token stays unredeemed.
type IssueFunc func(JoinToken) (Certificate, error)

// Store is implemented by each backend. All methods are safe for concurrent use.
type Store interface {
	// InsertCertificate records a newly issued certificate.
	InsertCertificate(ctx context.Context, c Certificate) error
	// Certificate returns the record for serial, or ErrNotFound.
	Certificate(ctx context.Context, serial *big.Int) (Certificate, error)
	// ListCertificates returns records, newest first.
	ListCertificates(ctx context.Context, f Filter) ([]Certificate, error)
	// Revoke marks serial revoked and returns the updated record; ErrNotFound
	// or ErrAlreadyRevoked otherwise.
	Revoke(ctx context.Context, serial *big.Int, at time.Time, reason int) (Certificate, error)
	// RevokedUnexpired lists revoked certificates still valid at now: what a
	// CRL must contain.
	RevokedUnexpired(ctx context.Context, now time.Time) ([]Certificate, error)
	// CountExpiring counts good certificates whose NotAfter lies in [from, to).
	CountExpiring(ctx context.Context, from, to time.Time) (int, error)
	// InsertJoinToken stores a token (by hash).
	InsertJoinToken(ctx context.Context, t JoinToken) error
	// RedeemJoinToken atomically checks the token (exists, unexpired at now,
	// unused), calls issue, records the certificate and marks the token used.
	// Among any number of concurrent calls for the same hash, at most one
	// succeeds; the others get ErrTokenUsed.
	RedeemJoinToken(ctx context.Context, hash [32]byte, now time.Time, issue IssueFunc) (Certificate, error)
	// DeleteExpiredJoinTokens removes tokens that expired before now, used or not.
	DeleteExpiredJoinTokens(ctx context.Context, now time.Time) (int, error)
	// Close releases the backend; it is idempotent.
	Close() error
}
