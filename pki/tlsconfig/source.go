package tlsconfig

import (
	"crypto/tls"
	"errors"
	"math/big"
	"sync"
	"sync/atomic"

	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// ErrIncomplete means a Source was given no SVID or no bundle.
var ErrIncomplete = errors.New("tlsconfig: SVID and trust bundle are required")

// Source is the current identity and trust bundle of a workload. Readers
// (handshakes) load it lock-free; writers (renewal, file reloads, CA
// rotation) replace it atomically, and every handshake after the swap uses
// the new material.
type Source struct {
	cur     atomic.Pointer[material]
	mu      sync.Mutex // serializes writers and guards changed
	changed chan struct{}
}

type material struct {
	svid   *x509svid.SVID
	bundle *x509bundle.Bundle
	cert   *tls.Certificate
}

// NewSource returns a Source holding svid and bundle.
func NewSource(svid *x509svid.SVID, bundle *x509bundle.Bundle) (*Source, error) {
	if svid == nil || bundle == nil {
		return nil, ErrIncomplete
	}
	s := &Source{changed: make(chan struct{})}
	s.cur.Store(&material{svid: svid, bundle: bundle, cert: svid.TLSCertificate()})
	return s, nil
}

func (s *Source) load() *material { return s.cur.Load() }

// SVID returns the current identity document.
func (s *Source) SVID() *x509svid.SVID { return s.load().svid }

// Bundle returns the current trust bundle.
func (s *Source) Bundle() *x509bundle.Bundle { return s.load().bundle }

// Certificate returns what handshakes currently present, OCSP staple included.
func (s *Source) Certificate() *tls.Certificate { return s.load().cert }

// Set replaces the SVID and/or the bundle; a nil argument keeps the current
// value.
func (s *Source) Set(svid *x509svid.SVID, bundle *x509bundle.Bundle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.load()
	next := &material{svid: old.svid, bundle: old.bundle, cert: old.cert}
	if svid != nil {
		next.svid, next.cert = svid, svid.TLSCertificate()
	}
	if bundle != nil {
		next.bundle = bundle
	}
	s.cur.Store(next)
	close(s.changed)
	s.changed = make(chan struct{})
}

// SetOCSPStaple attaches an OCSP response to the current certificate if its
// leaf still has the given serial (a renewal may have replaced it while the
// response was being fetched). It reports whether the staple was installed.
func (s *Source) SetOCSPStaple(serial *big.Int, staple []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.load()
	if old.svid.Leaf().SerialNumber.Cmp(serial) != 0 {
		return false
	}
	cert := *old.cert
	cert.OCSPStaple = append([]byte(nil), staple...)
	s.cur.Store(&material{svid: old.svid, bundle: old.bundle, cert: &cert})
	return true
}

// Changed returns a channel that is closed at the next Set. Background
// workers (stapler, renewer) use it to react to rotations.
func (s *Source) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}
