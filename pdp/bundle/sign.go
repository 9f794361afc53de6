package bundle

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
)

// manifestSigPrefix is prepended to the manifest bytes before signing, so
// that a bundle signature can never be replayed as a key set signature or
// anything else signed with the same key.
const manifestSigPrefix = "verdict-bundle-manifest-v1\n"

// signatureSize is the length of the manifest.sig entry.
const signatureSize = ed25519.SignatureSize

// Sign returns a copy of b signed by k: the manifest records k's key id and
// the signature covers the manifest, hence every file digest. b itself is
// unchanged; signing a signed bundle again replaces its signature.
func (b *Bundle) Sign(k *SigningKey) (*Bundle, error) {
	if k == nil {
		return nil, fmt.Errorf("%w: no signing key", ErrInvalid)
	}
	m := b.manifest.clone()
	m.KeyID = k.KeyID()
	manifestJSON, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("bundle: encoding manifest: %w", err)
	}
	return b.withSignature(m, manifestJSON, k.sign(manifestSigPrefix, manifestJSON)), nil
}
