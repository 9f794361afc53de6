package bundle

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// algEdDSA is the only signature algorithm of format version 1, named as
// in JOSE.
const algEdDSA = "EdDSA"

// PublicKey is a bundle-signing public key with its validity window: an
// entry of a key file or of a KeySet. A window lets a new key be announced
// before it signs anything and an old one retire after the overlap.
type PublicKey struct {
	// Key is the Ed25519 public key (32 bytes).
	Key ed25519.PublicKey
	// NotBefore, when set, is the first instant the key is trusted.
	NotBefore time.Time
	// NotAfter, when set, is the first instant the key is no longer trusted.
	NotAfter time.Time
}

// publicKeyJSON is the wire form of PublicKey:
//
//	{"kid":"...","alg":"EdDSA","public_key":"<base64>","not_before":"...","not_after":"..."}
type publicKeyJSON struct {
	KeyID     string    `json:"kid"`
	Alg       string    `json:"alg"`
	PublicKey string    `json:"public_key"`
	NotBefore time.Time `json:"not_before,omitzero"`
	NotAfter  time.Time `json:"not_after,omitzero"`
}

// KeyID returns the key's derived id, the value bundles and key sets name
// their signer by.
func (k PublicKey) KeyID() string { return keyID(k.Key) }

// ValidAt reports whether t is inside the key's window [NotBefore, NotAfter).
func (k PublicKey) ValidAt(t time.Time) bool {
	if !k.NotBefore.IsZero() && t.Before(k.NotBefore) {
		return false
	}
	if !k.NotAfter.IsZero() && !t.Before(k.NotAfter) {
		return false
	}
	return true
}

// check refuses keys that are not 32 bytes or whose window is empty.
func (k PublicKey) check() error {
	if len(k.Key) != ed25519.PublicKeySize {
		return fmt.Errorf("public key is %d bytes, want %d", len(k.Key), ed25519.PublicKeySize)
	}
	if !k.NotBefore.IsZero() && !k.NotAfter.IsZero() && !k.NotAfter.After(k.NotBefore) {
		return fmt.Errorf("key %s: not_after %s is not after not_before %s", k.KeyID(),
			k.NotAfter.Format(time.RFC3339), k.NotBefore.Format(time.RFC3339))
	}
	return nil
}

// MarshalJSON writes the wire form, with the derived kid and times in UTC,
// so that key files and key sets carry ids people can compare by eye.
func (k PublicKey) MarshalJSON() ([]byte, error) {
	if err := k.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	w := publicKeyJSON{
		KeyID:     k.KeyID(),
		Alg:       algEdDSA,
		PublicKey: base64.StdEncoding.EncodeToString(k.Key),
		NotBefore: utcOrZero(k.NotBefore),
		NotAfter:  utcOrZero(k.NotAfter),
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the wire form strictly: the algorithm must be EdDSA
// and the kid must be the one derived from the key, so that a hand-edited
// file cannot pair a trusted id with another key.
func (k *PublicKey) UnmarshalJSON(data []byte) error {
	var w publicKeyJSON
	if err := decodeStrict(data, &w); err != nil {
		return fmt.Errorf("%w: public key: %w", ErrFormat, err)
	}
	if w.Alg != algEdDSA {
		return fmt.Errorf("%w: key %q: alg %q is not supported (want %s)", ErrFormat, w.KeyID, w.Alg, algEdDSA)
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(w.PublicKey)
	if err != nil {
		return fmt.Errorf("%w: key %q: public_key is not base64: %w", ErrFormat, w.KeyID, err)
	}
	pk := PublicKey{Key: ed25519.PublicKey(raw), NotBefore: w.NotBefore, NotAfter: w.NotAfter}
	if err := pk.check(); err != nil {
		return fmt.Errorf("%w: key %q: %w", ErrFormat, w.KeyID, err)
	}
	if got := pk.KeyID(); w.KeyID != got {
		return fmt.Errorf("%w: kid %q does not match the key (its id is %q)", ErrFormat, w.KeyID, got)
	}
	*k = pk
	return nil
}

// utcOrZero converts t to UTC without turning the zero time into a
// non-zero instant elsewhere.
func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}
