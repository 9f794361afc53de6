package bundle

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
)

// keyIDBytes is how much of the key's SHA-256 a key id keeps: 128 bits, far
// beyond any accidental collision, short enough to read in a log line.
const keyIDBytes = 16

// keyIDLen is the length of a key id in characters.
const keyIDLen = (keyIDBytes*8 + 5) / 6

// keyID derives the id of an Ed25519 public key: unpadded base64url of the
// first 16 bytes of its SHA-256. Deriving ids, instead of letting people
// choose them, means a key id can only ever name one key.
func keyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return base64.RawURLEncoding.EncodeToString(sum[:keyIDBytes])
}

// isKeyID reports whether s has the shape of a derived key id.
func isKeyID(s string) bool {
	if len(s) != keyIDLen {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil && len(b) == keyIDBytes
}
