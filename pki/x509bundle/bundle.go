// Package x509bundle holds a trust bundle: the root certificates a workload
// accepts peer chains from. Bundles are swapped as a whole when the CA rotates
// or when an operator adds a root, so the type is immutable.
package x509bundle

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/verdict-authz/verdict/pki/internal/atomicfile"
)

// Errors returned when building or reading a bundle.
var (
	// ErrEmpty means a bundle would hold no root; an empty bundle trusts nothing
	// and is always a configuration mistake.
	ErrEmpty = errors.New("x509bundle: no certificates")
	// ErrNotCA means a certificate in a bundle is not a CA certificate.
	ErrNotCA = errors.New("x509bundle: certificate is not a CA")
)

// Bundle is an immutable set of trusted root certificates.
type Bundle struct {
	roots []*x509.Certificate
	pool  *x509.CertPool
}

// New builds a bundle from root certificates. Each must be a CA certificate,
// so that a leaf is never trusted by mistake.
func New(roots ...*x509.Certificate) (*Bundle, error) {
	if len(roots) == 0 {
		return nil, ErrEmpty
	}
	pool := x509.NewCertPool()
	out := make([]*x509.Certificate, 0, len(roots))
	for _, c := range roots {
		if c == nil {
			continue
		}
		if !c.IsCA || !c.BasicConstraintsValid {
			return nil, fmt.Errorf("%w: %s", ErrNotCA, c.Subject)
		}
		dup := false
		for _, o := range out {
			if o.Equal(c) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		out = append(out, c)
		pool.AddCert(c)
	}
	if len(out) == 0 {
		return nil, ErrEmpty
	}
	return &Bundle{roots: out, pool: pool}, nil
}

// Parse reads PEM "CERTIFICATE" blocks; other block types are skipped so a
// combined file still loads.
func Parse(pemData []byte) (*Bundle, error) {
	var roots []*x509.Certificate
	rest := pemData
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("x509bundle: parse certificate: %w", err)
		}
		roots = append(roots, c)
	}
	return New(roots...)
}

// Load reads a PEM bundle file.
func Load(path string) (*Bundle, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("x509bundle: %w", err)
	}
	b, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// Certificates returns a copy of the roots, so callers cannot mutate the bundle.
func (b *Bundle) Certificates() []*x509.Certificate {
	return append([]*x509.Certificate(nil), b.roots...)
}

// Pool returns the roots as a pool for x509.VerifyOptions. The pool is shared;
// callers must not add to it.
func (b *Bundle) Pool() *x509.CertPool { return b.pool }

// Contains reports whether cert is one of the roots.
func (b *Bundle) Contains(cert *x509.Certificate) bool {
	for _, r := range b.roots {
		if r.Equal(cert) {
			return true
		}
	}
	return false
}

// Equal reports whether two bundles hold the same roots in the same order; it
// lets reloaders skip no-op swaps.
func (b *Bundle) Equal(o *Bundle) bool {
	if b == nil || o == nil {
		return b == o
	}
	if len(b.roots) != len(o.roots) {
		return false
	}
	for i := range b.roots {
		if !b.roots[i].Equal(o.roots[i]) {
			return false
		}
	}
	return true
}

// MarshalPEM encodes the roots as PEM, the form written next to workload
// certificates.
func (b *Bundle) MarshalPEM() []byte {
	var buf bytes.Buffer
	for _, c := range b.roots {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// WriteFile stores the bundle as PEM with mode 0644, atomically, so that a
// process reloading it never reads a partial file.
func (b *Bundle) WriteFile(path string) error {
	if err := atomicfile.Write(path, b.MarshalPEM(), 0o644); err != nil {
		return fmt.Errorf("x509bundle: %w", err)
	}
	return nil
}
