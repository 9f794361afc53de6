package token

import (
	"encoding/base64"
	"errors"
)

// decodeBase64URL decodes unpadded base64url (RFC 7515 section 2) strictly.
// encoding/base64 silently skips CR and LF even in strict mode, which would
// let one signature be spelled many ways; every byte is therefore checked
// against the alphabet first, and non-zero trailing bits are refused.
func decodeBase64URL(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, errors.New("character outside the base64url alphabet")
		}
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("invalid base64url")
	}
	return b, nil
}
