package bundle

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// pemPrivateKey is the PEM block type of a PKCS#8 private key, the form
// openssl and other tools read ("openssl pkey -in key.pem -pubout").
const pemPrivateKey = "PRIVATE KEY"

// SigningKey is the producer's Ed25519 private key together with its
// derived key id. Only the PAP (or an offline signing tool) holds one.
type SigningKey struct {
	id   string
	priv ed25519.PrivateKey
}

// GenerateSigningKey creates a new key from crypto/rand, the first step of
// setting up or rotating a producer.
func GenerateSigningKey() (*SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("bundle: generating an Ed25519 key: %w", err)
	}
	return NewSigningKey(priv)
}

// NewSigningKey wraps an existing Ed25519 private key, for producers that
// keep keys elsewhere (a KMS export, a secret store).
func NewSigningKey(priv ed25519.PrivateKey) (*SigningKey, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: private key is %d bytes, want %d", ErrInvalid, len(priv), ed25519.PrivateKeySize)
	}
	priv = append(ed25519.PrivateKey(nil), priv...)
	return &SigningKey{id: keyID(priv.Public().(ed25519.PublicKey)), priv: priv}, nil
}

// KeyID returns the derived id recorded in what this key signs.
func (k *SigningKey) KeyID() string { return k.id }

// PublicKey returns the public half, with no validity window, ready to go
// into a key file or a KeySet.
func (k *SigningKey) PublicKey() PublicKey {
	return PublicKey{Key: append(ed25519.PublicKey(nil), k.priv.Public().(ed25519.PublicKey)...)}
}

// sign signs prefix||msg; the prefix separates the documents this package
// signs so that a signature over one can never pass for another.
func (k *SigningKey) sign(prefix string, msg []byte) []byte {
	buf := make([]byte, 0, len(prefix)+len(msg))
	buf = append(append(buf, prefix...), msg...)
	return ed25519.Sign(k.priv, buf)
}

// verifySigned checks an Ed25519 signature over prefix||msg.
func verifySigned(pub ed25519.PublicKey, prefix string, msg, sig []byte) bool {
	buf := make([]byte, 0, len(prefix)+len(msg))
	buf = append(append(buf, prefix...), msg...)
	return ed25519.Verify(pub, buf, sig)
}

// WritePrivateKeyFile writes k as a PKCS#8 PEM file with mode 0600. It
// refuses to overwrite an existing file (the error matches fs.ErrExist):
// losing a signing key by accident would strand every PDP that trusts it.
func WritePrivateKeyFile(path string, k *SigningKey) (err error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return fmt.Errorf("bundle: encoding private key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der})
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("bundle: writing private key: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("bundle: writing private key %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("bundle: writing private key %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("bundle: writing private key %s: %w", path, err)
	}
	return syncDir(filepath.Dir(path))
}

// LoadSigningKey reads a private key written by WritePrivateKeyFile (or any
// PKCS#8 PEM Ed25519 key, e.g. from "openssl genpkey -algorithm ed25519").
func LoadSigningKey(path string) (*SigningKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: reading private key: %w", err)
	}
	k, err := parseSigningKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// parseSigningKey decodes one PKCS#8 PEM block holding an Ed25519 key.
func parseSigningKey(data []byte) (*SigningKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrFormat)
	}
	if block.Type != pemPrivateKey {
		return nil, fmt.Errorf("%w: PEM block is %q, want %q", ErrFormat, block.Type, pemPrivateKey)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: private key is %T, want an Ed25519 key", ErrFormat, key)
	}
	return NewSigningKey(priv)
}
