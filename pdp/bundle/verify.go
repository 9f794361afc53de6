package bundle

import (
	"fmt"
	"io"
)

// Verify decides whether b may be activated: it must be signed (else
// ErrUnsigned) by a key trust trusts now (ErrUnknownKey), the signature
// must cover its manifest (ErrSignature), and, when the options ask, it
// must be for the right service (ErrService) and newer than the active
// revision (ErrStale). The signature is checked before anything the
// manifest claims is believed.
func (b *Bundle) Verify(trust *TrustStore, opts ...Option) error {
	cfg := newConfig(opts)
	m := &b.manifest
	if m.KeyID == "" {
		return fmt.Errorf("%w: %s revision %d names no signing key", ErrUnsigned, m.Service, m.Revision)
	}
	if b.signature == nil {
		return fmt.Errorf("%w: %s revision %d names key %s but carries no signature", ErrUnsigned, m.Service, m.Revision, m.KeyID)
	}
	if trust == nil {
		return fmt.Errorf("%w: no trust store to check key %s", ErrUnknownKey, m.KeyID)
	}
	pub, err := trust.PublicKey(m.KeyID)
	if err != nil {
		return err
	}
	if !verifySigned(pub, manifestSigPrefix, b.manifestJSON, b.signature) {
		return fmt.Errorf("%w: manifest signature does not verify with key %s", ErrSignature, m.KeyID)
	}
	if cfg.service != "" && m.Service != cfg.service {
		return fmt.Errorf("%w: bundle is for service %q, not %q", ErrService, m.Service, cfg.service)
	}
	if m.Revision <= cfg.activeRevision {
		return fmt.Errorf("%w: %s revision %d is not newer than active revision %d", ErrStale, m.Service, m.Revision, cfg.activeRevision)
	}
	return nil
}

// Open reads an archive and verifies it: the one call a PDP needs before
// activating a bundle. It refuses with the errors of Read and Verify.
func Open(r io.Reader, trust *TrustStore, opts ...Option) (*Bundle, error) {
	b, err := Read(r, opts...)
	if err != nil {
		return nil, err
	}
	if err := b.Verify(trust, opts...); err != nil {
		return nil, err
	}
	return b, nil
}
