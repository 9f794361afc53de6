package bundle

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// keySetSigPrefix separates key set signatures from bundle signatures made
// with the same key.
const keySetSigPrefix = "verdict-keyset-v1\n"

// KeySetFileName is the name SignedKeySet.WriteFile uses in its directory.
const KeySetFileName = "keyset.json"

// KeySet is the list of bundle-signing keys the PAP announces. A newer
// version replaces the keys learned from older ones, which is how keys are
// added ahead of use, overlap during a rotation, and are retired.
type KeySet struct {
	// Version orders key sets: a PDP accepts only versions newer than the
	// one it has, so an old set (listing a retired key) cannot be replayed.
	Version uint64 `json:"version"`
	// IssuedAt is when the set was signed, for operators.
	IssuedAt time.Time `json:"issued_at,omitzero"`
	// Keys are the keys the set trusts, each with its optional window.
	Keys []PublicKey `json:"keys"`
}

// clone returns a deep copy.
func (ks KeySet) clone() KeySet {
	keys := make([]PublicKey, len(ks.Keys))
	for i, k := range ks.Keys {
		k.Key = slices.Clone(k.Key)
		keys[i] = k
	}
	ks.Keys = keys
	return ks
}

// check validates a key set's own fields.
func (ks KeySet) check() error {
	if ks.Version == 0 {
		return fmt.Errorf("key set version must be at least 1")
	}
	return checkUniqueKeys(ks.Keys)
}

// SignedKeySet is a KeySet with the signature of the key that vouches for
// it. Parsing one does not make it trusted: TrustStore.Apply decides.
type SignedKeySet struct {
	payload   []byte // canonical JSON of set, exactly as signed
	keyID     string
	signature []byte
	set       KeySet
}

// signedKeySetJSON is the wire form of a SignedKeySet:
//
//	{"payload":"<base64 of the canonical KeySet JSON>","kid":"<signer>","signature":"<base64>"}
//
// The payload stays encoded so that the signed bytes are never re-derived.
type signedKeySetJSON struct {
	Payload   []byte `json:"payload"`
	KeyID     string `json:"kid,omitempty"`
	Signature []byte `json:"signature,omitempty"`
}

// SignKeySet signs ks with k, producing the document that teaches PDPs
// which keys to trust. During a rotation, k is the key PDPs already trust
// and ks lists both it and its successor.
func SignKeySet(ks KeySet, k *SigningKey) (*SignedKeySet, error) {
	if k == nil {
		return nil, fmt.Errorf("%w: no signing key", ErrInvalid)
	}
	ks = ks.clone()
	ks.IssuedAt = utcOrZero(ks.IssuedAt)
	for i := range ks.Keys {
		ks.Keys[i].NotBefore = utcOrZero(ks.Keys[i].NotBefore)
		ks.Keys[i].NotAfter = utcOrZero(ks.Keys[i].NotAfter)
	}
	if err := ks.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	payload, err := json.Marshal(ks)
	if err != nil {
		return nil, fmt.Errorf("%w: key set: %w", ErrInvalid, err)
	}
	return &SignedKeySet{
		payload:   payload,
		keyID:     k.KeyID(),
		signature: k.sign(keySetSigPrefix, payload),
		set:       ks,
	}, nil
}

// ParseKeySet decodes a signed key set as published or stored. Malformed
// documents are refused (ErrFormat); the signature is checked by
// TrustStore.Apply, against the keys trusted at that moment.
func ParseKeySet(data []byte) (*SignedKeySet, error) {
	var w signedKeySetJSON
	if err := decodeStrict(data, &w); err != nil {
		return nil, fmt.Errorf("%w: key set: %w", ErrFormat, err)
	}
	if w.KeyID != "" && !isKeyID(w.KeyID) {
		return nil, fmt.Errorf("%w: key set: kid %q is not a key id", ErrFormat, w.KeyID)
	}
	if len(w.Signature) != 0 && len(w.Signature) != signatureSize {
		return nil, fmt.Errorf("%w: key set: signature is %d bytes, want %d", ErrFormat, len(w.Signature), signatureSize)
	}
	var ks KeySet
	if err := decodeCanonical(w.Payload, &ks); err != nil {
		return nil, fmt.Errorf("%w: key set payload: %w", ErrFormat, err)
	}
	if err := ks.check(); err != nil {
		return nil, fmt.Errorf("%w: key set: %w", ErrFormat, err)
	}
	return &SignedKeySet{payload: w.Payload, keyID: w.KeyID, signature: w.Signature, set: ks}, nil
}

// KeySet returns a copy of the set's contents.
func (s *SignedKeySet) KeySet() KeySet { return s.set.clone() }

// SignerKeyID returns the id of the key that signed the set (empty when
// unsigned), for logs and for choosing which key must be trusted first.
func (s *SignedKeySet) SignerKeyID() string { return s.keyID }

// MarshalBinary returns the wire form, the bytes to publish or store.
func (s *SignedKeySet) MarshalBinary() ([]byte, error) {
	data, err := json.Marshal(signedKeySetJSON{Payload: s.payload, KeyID: s.keyID, Signature: s.signature})
	if err != nil {
		return nil, fmt.Errorf("bundle: encoding key set: %w", err)
	}
	return data, nil
}

// WriteFile stores the set as dir/keyset.json, atomically, so that a PDP
// restarting without its bundle source still trusts the keys it had
// learned and can verify its last-known-good bundle. It returns the path.
func (s *SignedKeySet) WriteFile(dir string) (string, error) {
	data, err := s.MarshalBinary()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, KeySetFileName)
	if err := writeFileAtomic(path, data, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// ReadKeySetFile reads dir/keyset.json as written by WriteFile. The result
// is untrusted until TrustStore.Apply accepts it. A missing file matches
// fs.ErrNotExist.
func ReadKeySetFile(dir string) (*SignedKeySet, error) {
	path := filepath.Join(dir, KeySetFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: reading key set: %w", err)
	}
	s, err := ParseKeySet(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
