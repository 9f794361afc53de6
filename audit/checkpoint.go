package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Checkpoint is a signed statement of a chain's head. Checkpoints are kept
// outside the store (a file and NATS), so whoever can rewrite the store
// cannot also rewrite what it was vouched to contain: that is what makes
// truncating the tail, or rewriting the whole chain, detectable.
type Checkpoint struct {
	Service   string    `json:"service"`
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature,omitempty"`
}

// ErrBadSignature: a checkpoint's signature does not verify with a trusted
// key.
var ErrBadSignature = errors.New("audit: bad checkpoint signature")

// payload is what the signature covers: every field but the signature.
func (c Checkpoint) payload() []byte {
	c.Signature = nil
	c.Time = c.Time.UTC()
	b, _ := json.Marshal(c) // a struct of strings, ints and a time always marshals
	return append([]byte("verdict-audit-checkpoint-v1\n"), b...)
}

// Signer signs checkpoints with an Ed25519 key.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a Signer for key; its key id is derived from the
// public key, so verifiers can pick the right key across rotations.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// PublicKey returns the key verifiers must trust.
func (s *Signer) PublicKey() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// Sign returns a signed checkpoint of service's head at time now.
func (s *Signer) Sign(service string, head Link, now time.Time) Checkpoint {
	c := Checkpoint{Service: service, Seq: head.Seq, Hash: head.Hash, Time: now.UTC(), KeyID: s.id}
	c.Signature = ed25519.Sign(s.key, c.payload())
	return c
}

// Keys are the public keys a verifier trusts, by key id.
type Keys map[string]ed25519.PublicKey

// NewKeys returns a key set holding pubs.
func NewKeys(pubs ...ed25519.PublicKey) Keys {
	k := Keys{}
	for _, p := range pubs {
		k[KeyID(p)] = p
	}
	return k
}

// Verify checks c's signature with a trusted key.
func (k Keys) Verify(c Checkpoint) error {
	pub, ok := k[c.KeyID]
	if !ok {
		return fmt.Errorf("%w: unknown key %q", ErrBadSignature, c.KeyID)
	}
	if !ed25519.Verify(pub, c.payload(), c.Signature) {
		return fmt.Errorf("%w: checkpoint %s@%d", ErrBadSignature, c.Service, c.Seq)
	}
	return nil
}
