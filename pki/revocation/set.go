package revocation

import (
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"
)

// ErrRevoked means the certificate is revoked.
var ErrRevoked = errors.New("revocation: certificate revoked")

// Entry is one revoked certificate.
type Entry struct {
	Serial    *big.Int
	RevokedAt time.Time
	// Reason is the RFC 5280 CRLReason code.
	Reason int
	// NotAfter of the revoked certificate; once passed the entry can be
	// pruned, as validity checks reject the certificate anyway. Zero keeps the
	// entry forever.
	NotAfter time.Time
}

// Set is a concurrent set of revoked serials of one CA.
type Set struct {
	mu     sync.RWMutex
	m      map[string]Entry
	subs   map[int]func(Entry)
	nextID int
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{m: make(map[string]Entry), subs: make(map[int]func(Entry))} }

func key(serial *big.Int) string { return serial.Text(16) }

// Add records a revocation and tells subscribers. It reports whether the
// serial was new, so that replays of the same event are harmless.
func (s *Set) Add(e Entry) bool {
	if e.Serial == nil {
		return false
	}
	s.mu.Lock()
	k := key(e.Serial)
	if _, ok := s.m[k]; ok {
		s.mu.Unlock()
		return false
	}
	s.m[k] = e
	subs := make([]func(Entry), 0, len(s.subs))
	for _, f := range s.subs {
		subs = append(subs, f)
	}
	s.mu.Unlock()
	for _, f := range subs {
		f(e)
	}
	return true
}

// Lookup returns the entry for serial.
func (s *Set) Lookup(serial *big.Int) (Entry, bool) {
	if serial == nil {
		return Entry{}, false
	}
	s.mu.RLock()
	e, ok := s.m[key(serial)]
	s.mu.RUnlock()
	return e, ok
}

// CheckRevocation returns an error wrapping ErrRevoked when cert is in the set.
func (s *Set) CheckRevocation(cert *x509.Certificate) error {
	if e, ok := s.Lookup(cert.SerialNumber); ok {
		return fmt.Errorf("%w: serial %x at %s", ErrRevoked, e.Serial, e.RevokedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// Prune drops entries whose certificate expired before now and returns how
// many were dropped.
func (s *Set) Prune(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, e := range s.m {
		if !e.NotAfter.IsZero() && e.NotAfter.Before(now) {
			delete(s.m, k)
			n++
		}
	}
	return n
}

// Len returns the number of entries.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// Subscribe calls f for every entry added from now on (synchronously, from
// Add's goroutine; f must not block). It is how live connections using a
// just-revoked certificate get closed. The returned function unsubscribes.
func (s *Set) Subscribe(f func(Entry)) (cancel func()) {
	s.mu.Lock()
	id := s.nextID
	s.nextID++
	s.subs[id] = f
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.subs, id)
			s.mu.Unlock()
		})
	}
}
