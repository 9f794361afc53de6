package x509bundle

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidFingerprint means a fingerprint string is not 32 hex-encoded bytes.
var ErrInvalidFingerprint = errors.New("x509bundle: invalid SHA-256 fingerprint")

// Fingerprint is the SHA-256 digest of a certificate's DER encoding. It is how
// an operator pins the root during bootstrap, before any trust exists.
type Fingerprint [sha256.Size]byte

// FingerprintOf computes the fingerprint of cert.
func FingerprintOf(cert *x509.Certificate) Fingerprint { return sha256.Sum256(cert.Raw) }

// ParseFingerprint accepts the forms operators copy around: plain hex,
// colon-separated hex (as openssl prints it), either case, optionally
// prefixed with "sha256:" or "SHA256=".
func ParseFingerprint(s string) (Fingerprint, error) {
	var fp Fingerprint
	t := strings.TrimSpace(s)
	for _, p := range []string{"sha256:", "SHA256:", "sha256=", "SHA256=", "SHA256 Fingerprint="} {
		t = strings.TrimPrefix(t, p)
	}
	t = strings.ReplaceAll(t, ":", "")
	b, err := hex.DecodeString(t)
	if err != nil || len(b) != len(fp) {
		return fp, fmt.Errorf("%w: %q", ErrInvalidFingerprint, s)
	}
	copy(fp[:], b)
	return fp, nil
}

// String returns lowercase hex without separators, the form `verdict ca`
// prints and --fingerprint accepts.
func (f Fingerprint) String() string { return hex.EncodeToString(f[:]) }

// Matches reports whether cert has this fingerprint.
func (f Fingerprint) Matches(cert *x509.Certificate) bool {
	return cert != nil && FingerprintOf(cert) == f
}

// Find returns the first certificate among certs that has this fingerprint.
func (f Fingerprint) Find(certs []*x509.Certificate) (*x509.Certificate, bool) {
	for _, c := range certs {
		if f.Matches(c) {
			return c, true
		}
	}
	return nil, false
}
