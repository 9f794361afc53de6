package bundle

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// decodeStrict decodes exactly one JSON value into v, refusing unknown
// fields and trailing data, so that a typo in a key file is an error and
// not a silently ignored setting.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// decodeCanonical is decodeStrict plus the requirement that data is exactly
// what encoding/json produces for the decoded value. Signed documents must
// be canonical: one value has one encoding, so duplicate keys, case-folded
// field names or alternative spellings can never make two parsers disagree
// about what was signed.
func decodeCanonical(data []byte, v any) error {
	if err := decodeStrict(data, v); err != nil {
		return err
	}
	again, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("JSON is not in canonical form")
	}
	return nil
}
