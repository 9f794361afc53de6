package bundle

import (
	"encoding/json"
	"fmt"
	"os"
)

// keyFileJSON is the key file format, shared by the producer's public key
// file and the PDP's trusted keys file:
//
//	{"keys":[{"kid":"<id>","alg":"EdDSA","public_key":"<base64 std>",
//	          "not_before":"<RFC 3339>","not_after":"<RFC 3339>"}]}
//
// not_before and not_after are optional; kid must be the derived id.
type keyFileJSON struct {
	Keys []PublicKey `json:"keys"`
}

// WriteKeyFile writes keys in the key file format (mode 0644, atomically).
// The producer writes its public key with it, and the same file is what a
// PDP's configuration names as trusted_keys.
func WriteKeyFile(path string, keys ...PublicKey) error {
	if len(keys) == 0 {
		return fmt.Errorf("%w: a key file needs at least one key", ErrInvalid)
	}
	data, err := json.MarshalIndent(keyFileJSON{Keys: keys}, "", "  ")
	if err != nil {
		return fmt.Errorf("bundle: key file %s: %w", path, err)
	}
	return writeFileAtomic(path, append(data, '\n'), 0o644)
}

// ReadKeyFile reads a key file. Unknown fields, a kid that does not match
// its key, an algorithm other than EdDSA, duplicate keys or an empty list
// are refused (ErrFormat): a key file is trust configuration, and a
// mistake in it must stop the PDP rather than be ignored.
func ReadKeyFile(path string) ([]PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bundle: reading key file: %w", err)
	}
	keys, err := parseKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return keys, nil
}

// parseKeyFile decodes and checks key file bytes.
func parseKeyFile(data []byte) ([]PublicKey, error) {
	var f keyFileJSON
	if err := decodeStrict(data, &f); err != nil {
		return nil, fmt.Errorf("%w: key file: %w", ErrFormat, err)
	}
	if len(f.Keys) == 0 {
		return nil, fmt.Errorf("%w: key file lists no keys", ErrFormat)
	}
	if err := checkUniqueKeys(f.Keys); err != nil {
		return nil, fmt.Errorf("%w: key file: %w", ErrFormat, err)
	}
	return f.Keys, nil
}

// checkUniqueKeys refuses a list naming the same key twice, whose two
// windows would leave it unclear when the key is trusted.
func checkUniqueKeys(keys []PublicKey) error {
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if err := k.check(); err != nil {
			return err
		}
		id := k.KeyID()
		if seen[id] {
			return fmt.Errorf("key %s is listed twice", id)
		}
		seen[id] = true
	}
	return nil
}
