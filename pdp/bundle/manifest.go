package bundle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// FormatVersion is the manifest format this package writes and the only one
// it reads. A PDP refuses other versions instead of guessing at them.
const FormatVersion = 1

// digestPrefix names the hash of Manifest.Digest, so that the value can be
// compared with digests printed elsewhere (heartbeats, pointer messages).
const digestPrefix = "sha256:"

// maxRootPolicyID bounds the root policy id, which is echoed in logs.
const maxRootPolicyID = 1024

// Manifest describes a bundle: what it is for, which revision, and the
// digest of every file. It is what the producer signs, so everything a PDP
// relies on is in it.
type Manifest struct {
	// Format is FormatVersion.
	Format int `json:"format"`
	// Service is the service the bundle is for.
	Service string `json:"service"`
	// Revision is the PAP's revision number: monotonic per service, ≥ 1.
	Revision uint64 `json:"revision"`
	// CreatedAt is when the producer built the bundle, in UTC.
	CreatedAt time.Time `json:"created_at"`
	// RootPolicyID is the id of the service's root PolicySet or Policy, the
	// entry point of every decision.
	RootPolicyID string `json:"root_policy_id"`
	// Files lists every file, ascending by name.
	Files []FileDigest `json:"files"`
	// Digest is the content digest ("sha256:<hex>") over Files; it depends
	// on the file contents and names only.
	Digest string `json:"digest"`
	// KeyID is the id of the signing key; empty when unsigned.
	KeyID string `json:"key_id,omitempty"`
	// Metadata holds optional producer annotations (author, message,
	// parent revision...), signed with the rest.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// FileDigest is a file's entry in the manifest.
type FileDigest struct {
	// Name is the archive name, e.g. "rego/authz/main.rego".
	Name string `json:"name"`
	// Size is the file's length in bytes.
	Size int64 `json:"size"`
	// SHA256 is the lowercase hex SHA-256 of the file.
	SHA256 string `json:"sha256"`
}

// clone returns a deep copy, so that callers cannot alter a bundle's
// manifest through the value they were given.
func (m Manifest) clone() Manifest {
	m.Files = slices.Clone(m.Files)
	m.Metadata = maps.Clone(m.Metadata)
	return m
}

// digestFile returns the manifest entry of one file.
func digestFile(name string, body []byte) FileDigest {
	sum := sha256.Sum256(body)
	return FileDigest{Name: name, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}
}

// contentDigest is the digest over a sorted file list: SHA-256 of the
// sha256sum-style lines "<hex>  <name>\n".
func contentDigest(files []FileDigest) string {
	h := sha256.New()
	for _, f := range files {
		h.Write([]byte(f.SHA256))
		h.Write([]byte("  "))
		h.Write([]byte(f.Name))
		h.Write([]byte("\n"))
	}
	return digestPrefix + hex.EncodeToString(h.Sum(nil))
}

// decodeManifest parses and checks manifest bytes read from an archive.
func decodeManifest(data []byte) (Manifest, error) {
	var m Manifest
	if err := decodeCanonical(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("%w: %s: %w", ErrFormat, manifestEntry, err)
	}
	if err := m.check(); err != nil {
		return Manifest{}, fmt.Errorf("%w: %s: %w", ErrFormat, manifestEntry, err)
	}
	return m, nil
}

// check validates a manifest's fields on their own (not against the files):
// the checks New guarantees by construction, repeated for what is read.
func (m Manifest) check() error {
	if m.Format != FormatVersion {
		return fmt.Errorf("format version %d is not supported (want %d)", m.Format, FormatVersion)
	}
	if err := checkServiceName(m.Service); err != nil {
		return err
	}
	if m.Revision == 0 {
		return fmt.Errorf("revision must be at least 1")
	}
	if m.CreatedAt.IsZero() {
		return fmt.Errorf("created_at is missing")
	}
	if err := checkRootPolicyID(m.RootPolicyID); err != nil {
		return err
	}
	modules := 0
	for i, f := range m.Files {
		if err := checkEntryName(f.Name); err != nil {
			return err
		}
		if i > 0 && f.Name <= m.Files[i-1].Name {
			return fmt.Errorf("files are not in strictly ascending order at %q", f.Name)
		}
		if f.Size < 0 {
			return fmt.Errorf("file %q has a negative size", f.Name)
		}
		if !isLowerHex(f.SHA256, sha256.Size) {
			return fmt.Errorf("file %q: sha256 is not %d lowercase hex digits", f.Name, 2*sha256.Size)
		}
		if strings.HasPrefix(f.Name, regoDir) {
			modules++
		}
	}
	if modules == 0 {
		return fmt.Errorf("no Rego module")
	}
	if !strings.HasPrefix(m.Digest, digestPrefix) || !isLowerHex(m.Digest[len(digestPrefix):], sha256.Size) {
		return fmt.Errorf("digest %q is not sha256:<hex>", m.Digest)
	}
	if m.KeyID != "" && !isKeyID(m.KeyID) {
		return fmt.Errorf("key_id %q is not a key id", m.KeyID)
	}
	return checkMetadata(m.Metadata)
}

// checkRootPolicyID refuses an empty, oversized or non-UTF-8 root id.
func checkRootPolicyID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("root policy id is empty")
	case len(id) > maxRootPolicyID:
		return fmt.Errorf("root policy id is %d bytes, longer than %d", len(id), maxRootPolicyID)
	case !utf8.ValidString(id):
		return fmt.Errorf("root policy id is not valid UTF-8")
	}
	return nil
}

// checkMetadata refuses empty keys and invalid UTF-8, which JSON could not
// carry unchanged.
func checkMetadata(md map[string]string) error {
	for k, v := range md {
		if k == "" {
			return fmt.Errorf("metadata has an empty key")
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("metadata %q is not valid UTF-8", k)
		}
	}
	return nil
}

// isLowerHex reports whether s is exactly n bytes in lowercase hex.
func isLowerHex(s string, n int) bool {
	if len(s) != 2*n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
