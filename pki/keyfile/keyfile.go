// Package keyfile generates private keys and keeps them on disk the way the
// platform requires: PKCS#8 PEM, mode 0600, written atomically, and refused
// on load when group or others can read them.
package keyfile

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/verdict-authz/verdict/pki/internal/atomicfile"
)

// Perm is the only mode private key files are written with.
const Perm os.FileMode = 0o600

// Errors returned by this package.
var (
	// ErrPermissions means a key file is readable or writable by group or others.
	ErrPermissions = errors.New("keyfile: private key file permissions are too open (want 0600)")
	// ErrNoKey means a PEM document holds no private key block.
	ErrNoKey = errors.New("keyfile: no private key found")
	// ErrUnsupported means a key type or algorithm name is not supported.
	ErrUnsupported = errors.New("keyfile: unsupported key algorithm")
)

// Algorithm names a key type. The zero value means the default, ECDSA P-256:
// small, fast to sign (OCSP, issuance throughput) and universally supported.
type Algorithm string

// Supported algorithms.
const (
	ECDSAP256 Algorithm = "ecdsa-p256"
	ECDSAP384 Algorithm = "ecdsa-p384"
	Ed25519   Algorithm = "ed25519"
	RSA2048   Algorithm = "rsa-2048"
	RSA3072   Algorithm = "rsa-3072"
)

// ParseAlgorithm maps a configuration or CFSSL-style name to an Algorithm:
// "ecdsa"/"ecdsa-p256"/256, "ecdsa-p384", "ed25519", "rsa"/"rsa-2048", "rsa-3072".
func ParseAlgorithm(algo string, size int) (Algorithm, error) {
	switch algo {
	case "", "ecdsa", string(ECDSAP256), string(ECDSAP384):
		switch {
		case algo == string(ECDSAP384) || (algo == "ecdsa" && size == 384):
			return ECDSAP384, nil
		case algo == string(ECDSAP256) || size == 0 || size == 256:
			return ECDSAP256, nil
		}
	case string(Ed25519):
		return Ed25519, nil
	case "rsa", string(RSA2048), string(RSA3072):
		switch {
		case algo == string(RSA3072) || (algo == "rsa" && size == 3072):
			return RSA3072, nil
		case algo == string(RSA2048) || size == 0 || size == 2048:
			return RSA2048, nil
		}
	}
	return "", fmt.Errorf("%w: %q size %d", ErrUnsupported, algo, size)
}

// Generate creates a new private key.
func Generate(alg Algorithm) (crypto.Signer, error) {
	switch alg {
	case "", ECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case RSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case RSA3072:
		return rsa.GenerateKey(rand.Reader, 3072)
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupported, alg)
}

// Marshal encodes key as a PKCS#8 "PRIVATE KEY" PEM block.
func Marshal(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("keyfile: marshal: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Parse decodes the first private key block of a PEM document (PKCS#8, or the
// legacy "EC PRIVATE KEY" and "RSA PRIVATE KEY" forms operators may supply).
func Parse(pemData []byte) (crypto.Signer, error) {
	rest := pemData
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, ErrNoKey
		}
		var (
			k   any
			err error
		)
		switch block.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("keyfile: parse %s: %w", block.Type, err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%w: %T", ErrUnsupported, k)
		}
		return s, nil
	}
}

// Write stores key at path with mode 0600, atomically.
func Write(path string, key crypto.Signer) error {
	data, err := Marshal(key)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, Perm); err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	return nil
}

// Read loads a key written by Write. It refuses files that group or others
// may access, because such a key must be considered disclosed.
func Read(path string) (crypto.Signer, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o", ErrPermissions, path, fi.Mode().Perm())
	}
	return ReadUnchecked(path)
}

// ReadUnchecked loads a key without the permission check; it is for keys the
// operator hands over once (an offline root key), whose storage is theirs.
func ReadUnchecked(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	k, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// MatchesPublic reports whether key is the private half of pub, so that a
// certificate and a key loaded separately can be checked against each other.
func MatchesPublic(key crypto.Signer, pub crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := key.Public().(equaler)
	return ok && e.Equal(pub)
}
