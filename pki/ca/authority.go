package ca

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"

	"github.com/verdict-authz/verdict/pki/internal/atomicfile"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// Files in the CA directory.
const (
	rootCertFile         = "root.pem"
	rootKeyFile          = "root-key.pem"
	intermediateCertFile = "intermediate.pem"
	intermediateKeyFile  = "intermediate-key.pem"
	databaseFile         = "ca.db"
)

// authority is the signing material: the trust anchor and the certificate
// and key that sign leaves (the root itself, or an intermediate).
type authority struct {
	root   *x509.Certificate
	issuer *x509.Certificate
	signer crypto.Signer
	// intermediates is what leaves chain through to reach root: empty for a
	// self-signed CA, [issuer] under an operator root.
	intermediates []*x509.Certificate
}

// loadOrCreateAuthority reads the CA directory, or initializes it: a new
// self-signed root, or a new intermediate signed by the operator's root.
func loadOrCreateAuthority(dir string, cfg *config) (*authority, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	switch {
	case exists(p(intermediateCertFile)):
		a, err := loadAuthority(p(rootCertFile), p(intermediateCertFile), p(intermediateKeyFile))
		if err != nil {
			return nil, err
		}
		if cfg.rootCertFile != "" {
			given, err := readCert(cfg.rootCertFile)
			if err != nil {
				return nil, err
			}
			if !given.Equal(a.root) {
				return nil, fmt.Errorf("%w: %s holds another root than %s", ErrStateMismatch, dir, cfg.rootCertFile)
			}
		}
		return a, nil
	case exists(p(rootKeyFile)):
		if cfg.rootCertFile != "" {
			return nil, fmt.Errorf("%w: %s holds a self-signed CA but an operator root was given", ErrStateMismatch, dir)
		}
		return loadAuthority(p(rootCertFile), p(rootCertFile), p(rootKeyFile))
	case cfg.rootCertFile != "":
		return createIntermediate(dir, cfg)
	default:
		return createRoot(dir, cfg)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

func readCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	certs, err := x509svid.ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", path, err)
	}
	return certs[0], nil
}

func loadAuthority(rootPath, issuerPath, keyPath string) (*authority, error) {
	root, err := readCert(rootPath)
	if err != nil {
		return nil, err
	}
	issuer, err := readCert(issuerPath)
	if err != nil {
		return nil, err
	}
	key, err := keyfile.Read(keyPath)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if !keyfile.MatchesPublic(key, issuer.PublicKey) {
		return nil, fmt.Errorf("%w: %s does not match %s", ErrStateMismatch, keyPath, issuerPath)
	}
	a := &authority{root: root, issuer: issuer, signer: key}
	if !issuer.Equal(root) {
		if err := issuer.CheckSignatureFrom(root); err != nil {
			return nil, fmt.Errorf("%w: %s is not signed by %s: %w", ErrStateMismatch, issuerPath, rootPath, err)
		}
		a.intermediates = []*x509.Certificate{issuer}
	}
	return a, nil
}

func randomSerial() (*big.Int, error) {
	// 127 random bits plus one: positive, never zero, at most 16 octets.
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("ca: serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func caTemplate(cn, td string, now time.Time, lifetime time.Duration) (*x509.Certificate, error) {
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{td}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(lifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}, nil
}

func createRoot(dir string, cfg *config) (*authority, error) {
	key, err := keyfile.Generate(cfg.keyAlgorithm)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	tmpl, err := caTemplate("Verdict Root CA", cfg.trustDomain, cfg.now(), cfg.rootLifetime)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("ca: create root: %w", err)
	}
	root, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: create root: %w", err)
	}
	// The key goes first: a directory holding root-key.pem without root.pem
	// fails to load loudly instead of silently minting a second root.
	if err := keyfile.Write(filepath.Join(dir, rootKeyFile), key); err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, rootCertFile), x509svid.EncodeCertificates([]*x509.Certificate{root}), 0o644); err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	cfg.logger.Info("ca: created self-signed root", "dir", dir, "subject", root.Subject.String(), "not_after", root.NotAfter)
	return &authority{root: root, issuer: root, signer: key}, nil
}

func createIntermediate(dir string, cfg *config) (*authority, error) {
	root, err := readCert(cfg.rootCertFile)
	if err != nil {
		return nil, err
	}
	if !root.IsCA || root.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%w: %s is not a CA certificate allowed to sign certificates", ErrInvalidRequest, cfg.rootCertFile)
	}
	if root.MaxPathLenZero && root.MaxPathLen == 0 {
		return nil, fmt.Errorf("%w: %s has pathlen 0 and cannot have an intermediate", ErrInvalidRequest, cfg.rootCertFile)
	}
	rootKey, err := keyfile.ReadUnchecked(cfg.rootKeyFile)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if !keyfile.MatchesPublic(rootKey, root.PublicKey) {
		return nil, fmt.Errorf("%w: %s does not match %s", ErrInvalidRequest, cfg.rootKeyFile, cfg.rootCertFile)
	}
	key, err := keyfile.Generate(cfg.keyAlgorithm)
	if err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	now := cfg.now()
	lifetime := cfg.rootLifetime
	if limit := root.NotAfter.Sub(now); limit < lifetime {
		lifetime = limit
	}
	if lifetime < cfg.defaultLifetime {
		return nil, fmt.Errorf("%w: operator root expires at %s", ErrInvalidRequest, root.NotAfter)
	}
	tmpl, err := caTemplate("Verdict Intermediate CA", cfg.trustDomain, now, lifetime)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, root, key.Public(), rootKey)
	if err != nil {
		return nil, fmt.Errorf("ca: create intermediate: %w", err)
	}
	inter, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("ca: create intermediate: %w", err)
	}
	if err := keyfile.Write(filepath.Join(dir, intermediateKeyFile), key); err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, rootCertFile), x509svid.EncodeCertificates([]*x509.Certificate{root}), 0o644); err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, intermediateCertFile), x509svid.EncodeCertificates([]*x509.Certificate{inter}), 0o644); err != nil {
		return nil, fmt.Errorf("ca: %w", err)
	}
	cfg.logger.Info("ca: created intermediate under operator root", "dir", dir, "root", root.Subject.String(), "not_after", inter.NotAfter)
	return &authority{root: root, issuer: inter, signer: key, intermediates: []*x509.Certificate{inter}}, nil
}
