// Package x509svid is a workload's X.509 identity document: its certificate
// chain (leaf first) and private key, with the identity parsed from the
// leaf's spiffe:// URI SAN. It is what bootstrap writes, what renewal
// replaces and what TLS configurations serve.
package x509svid

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/verdict-authz/verdict/pki/internal/atomicfile"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// CertPerm is the mode certificate and bundle files are written with: public
// material, readable by the workload's group (for example a sidecar).
const CertPerm os.FileMode = 0o644

// Errors returned when an SVID is inconsistent.
var (
	// ErrNoCertificate means a chain is empty.
	ErrNoCertificate = errors.New("x509svid: no certificate")
	// ErrKeyMismatch means the private key does not belong to the leaf.
	ErrKeyMismatch = errors.New("x509svid: private key does not match certificate")
)

// SVID is an identity document. It is treated as immutable once built.
type SVID struct {
	// ID is the identity from the leaf's URI SAN.
	ID spiffeid.ID
	// Certificates is the chain presented to peers: leaf first, then
	// intermediates (and possibly the root).
	Certificates []*x509.Certificate
	// PrivateKey is the leaf's key.
	PrivateKey crypto.Signer
}

// New checks that key matches the leaf and that the leaf has an identity.
func New(chain []*x509.Certificate, key crypto.Signer) (*SVID, error) {
	if len(chain) == 0 || chain[0] == nil {
		return nil, ErrNoCertificate
	}
	if key == nil || !keyfile.MatchesPublic(key, chain[0].PublicKey) {
		return nil, ErrKeyMismatch
	}
	id, err := spiffeid.FromCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("x509svid: %w", err)
	}
	return &SVID{ID: id, Certificates: append([]*x509.Certificate(nil), chain...), PrivateKey: key}, nil
}

// Parse reads a PEM certificate chain and a PEM private key.
func Parse(certPEM, keyPEM []byte) (*SVID, error) {
	chain, err := ParseCertificates(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := keyfile.Parse(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("x509svid: %w", err)
	}
	return New(chain, key)
}

// Load reads the certificate chain and key files written by WriteFiles. The
// key file must have mode 0600.
func Load(certFile, keyFile string) (*SVID, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("x509svid: %w", err)
	}
	key, err := keyfile.Read(keyFile)
	if err != nil {
		return nil, fmt.Errorf("x509svid: %w", err)
	}
	chain, err := ParseCertificates(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certFile, err)
	}
	return New(chain, key)
}

// ParseCertificates reads every PEM "CERTIFICATE" block, in order.
func ParseCertificates(pemData []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
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
			return nil, fmt.Errorf("x509svid: parse certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, ErrNoCertificate
	}
	return out, nil
}

// EncodeCertificates encodes certs as consecutive PEM blocks.
func EncodeCertificates(certs []*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		_ = pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	return buf.Bytes()
}

// Leaf returns the end-entity certificate.
func (s *SVID) Leaf() *x509.Certificate { return s.Certificates[0] }

// MarshalPEM returns the chain and key in PEM form.
func (s *SVID) MarshalPEM() (certPEM, keyPEM []byte, err error) {
	keyPEM, err = keyfile.Marshal(s.PrivateKey)
	if err != nil {
		return nil, nil, err
	}
	return EncodeCertificates(s.Certificates), keyPEM, nil
}

// WriteFiles stores the key (0600) and then the chain (0644), each
// atomically. The key goes first so that a reader that sees the new
// certificate can always load the matching key.
func (s *SVID) WriteFiles(certFile, keyFile string) error {
	if err := keyfile.Write(keyFile, s.PrivateKey); err != nil {
		return err
	}
	if err := atomicfile.Write(certFile, EncodeCertificates(s.Certificates), CertPerm); err != nil {
		return fmt.Errorf("x509svid: %w", err)
	}
	return nil
}

// TLSCertificate returns the SVID in the form crypto/tls serves.
func (s *SVID) TLSCertificate() *tls.Certificate {
	c := &tls.Certificate{PrivateKey: s.PrivateKey, Leaf: s.Certificates[0]}
	for _, x := range s.Certificates {
		c.Certificate = append(c.Certificate, x.Raw)
	}
	return c
}
