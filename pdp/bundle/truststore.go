package bundle

import (
	"crypto/ed25519"
	"fmt"
	"slices"
	"sync"
	"time"
)

// TrustStore answers which bundle-signing keys a PDP trusts right now. It
// starts from locally configured keys, which stay trusted (within their
// windows) whatever happens, and learns further keys from signed key sets
// that chain to a key it already trusts. It is safe for concurrent use:
// decisions verify bundles while a key set is being applied.
type TrustStore struct {
	now   func() time.Time
	local map[string]PublicKey

	mu        sync.RWMutex
	delivered map[string]PublicKey // from keySet
	keySet    *SignedKeySet        // last applied, nil before any
}

// NewTrustStore returns a store trusting keys, the PDP's local
// configuration. An empty list is refused (ErrInvalid): a PDP that trusts
// nothing could never activate a bundle.
func NewTrustStore(keys []PublicKey, opts ...TrustOption) (*TrustStore, error) {
	cfg := trustConfig{now: time.Now}
	for _, o := range opts {
		if o != nil {
			o.applyToTrust(&cfg)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: a trust store needs at least one key", ErrInvalid)
	}
	if err := checkUniqueKeys(keys); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return &TrustStore{now: cfg.now, local: keyMap(keys)}, nil
}

// LoadTrustStore reads a key file (see WriteKeyFile for the format) and
// returns a store trusting its keys: the PDP's "trusted_keys" setting.
func LoadTrustStore(keyFile string, opts ...TrustOption) (*TrustStore, error) {
	keys, err := ReadKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	return NewTrustStore(keys, opts...)
}

// keyMap indexes keys by id, copying them.
func keyMap(keys []PublicKey) map[string]PublicKey {
	m := make(map[string]PublicKey, len(keys))
	for _, k := range keys {
		k.Key = append(ed25519.PublicKey(nil), k.Key...)
		m[k.KeyID()] = k
	}
	return m
}

// PublicKey returns (a copy of) the key named kid if it is trusted now, or an error
// wrapping ErrUnknownKey that says why not (unknown, not yet valid,
// expired).
func (t *TrustStore) PublicKey(kid string) (ed25519.PublicKey, error) {
	now := t.now()
	t.mu.RLock()
	defer t.mu.RUnlock()
	pub, err := t.lookupLocked(kid, now)
	if err != nil {
		return nil, err
	}
	return slices.Clone(pub), nil
}

// Trusted reports whether kid names a key trusted now.
func (t *TrustStore) Trusted(kid string) bool {
	_, err := t.PublicKey(kid)
	return err == nil
}

// lookupLocked finds kid among local and delivered keys valid at now.
func (t *TrustStore) lookupLocked(kid string, now time.Time) (ed25519.PublicKey, error) {
	local, inLocal := t.local[kid]
	if inLocal && local.ValidAt(now) {
		return local.Key, nil
	}
	delivered, inDelivered := t.delivered[kid]
	if inDelivered && delivered.ValidAt(now) {
		return delivered.Key, nil
	}
	if inLocal || inDelivered {
		return nil, fmt.Errorf("%w: key %s is outside its validity window at %s", ErrUnknownKey, kid, now.UTC().Format(time.RFC3339))
	}
	return nil, fmt.Errorf("%w: key %s is neither configured nor in the current key set", ErrUnknownKey, kid)
}

// Apply accepts a signed key set if it is signed (else ErrUnsigned) by a
// key trusted now (ErrUnknownKey), the signature verifies (ErrSignature),
// and its version is newer than the current one (ErrStale). The set then
// replaces the keys learned from earlier sets; local keys are unaffected.
func (t *TrustStore) Apply(s *SignedKeySet) error {
	if s == nil {
		return fmt.Errorf("%w: no key set", ErrFormat)
	}
	if s.keyID == "" || len(s.signature) == 0 {
		return fmt.Errorf("%w: key set version %d carries no signature", ErrUnsigned, s.set.Version)
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	pub, err := t.lookupLocked(s.keyID, now)
	if err != nil {
		return fmt.Errorf("key set version %d: %w", s.set.Version, err)
	}
	if !verifySigned(pub, keySetSigPrefix, s.payload, s.signature) {
		return fmt.Errorf("%w: key set version %d does not verify with key %s", ErrSignature, s.set.Version, s.keyID)
	}
	if cur := t.versionLocked(); s.set.Version <= cur {
		return fmt.Errorf("%w: key set version %d is not newer than version %d", ErrStale, s.set.Version, cur)
	}
	t.delivered = keyMap(s.set.Keys)
	t.keySet = s
	return nil
}

// Version returns the version of the last applied key set, 0 before any,
// for heartbeats and for deciding whether a persisted set is worth applying.
func (t *TrustStore) Version() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.versionLocked()
}

// versionLocked is Version under t.mu.
func (t *TrustStore) versionLocked() uint64 {
	if t.keySet == nil {
		return 0
	}
	return t.keySet.set.Version
}

// KeySet returns the last applied key set, nil before any, so that a PDP
// can persist it beside its last-known-good bundle.
func (t *TrustStore) KeySet() *SignedKeySet {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.keySet
}
