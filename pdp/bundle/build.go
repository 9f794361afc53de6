package bundle

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Contents is what a producer puts into a bundle. New copies it, so the
// caller may reuse or change it afterwards.
type Contents struct {
	// Service is the service name ([a-z0-9][a-z0-9-]{0,62}).
	Service string
	// Revision is the PAP's revision number, ≥ 1 and monotonic per service.
	Revision uint64
	// RootPolicyID names the service's root PolicySet or Policy.
	RootPolicyID string
	// CreatedAt is the build time, required: a bundle never reads a clock
	// itself, so rebuilding the same revision gives the same bytes.
	CreatedAt time.Time
	// Modules maps paths such as "authz/main.rego" to compiled Rego; at
	// least one is required.
	Modules map[string]string
	// Data maps paths such as "data.json" to JSON documents.
	Data map[string][]byte
	// Sources maps paths such as "orders.xml" to the policies as authored.
	Sources map[string][]byte
	// Metadata holds optional annotations (author, message, parent...).
	Metadata map[string]string
}

// New builds an unsigned bundle from c, refusing (ErrInvalid) anything a
// PDP would refuse to read, and (ErrTooLarge) contents whose signed archive
// would exceed WithMaxSize. Sign it before publishing.
func New(c Contents, opts ...Option) (*Bundle, error) {
	cfg := newConfig(opts)
	if err := checkServiceName(c.Service); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if c.Revision == 0 {
		return nil, fmt.Errorf("%w: revision must be at least 1", ErrInvalid)
	}
	if c.CreatedAt.IsZero() {
		return nil, fmt.Errorf("%w: CreatedAt is required", ErrInvalid)
	}
	if err := checkRootPolicyID(c.RootPolicyID); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if len(c.Modules) == 0 {
		return nil, fmt.Errorf("%w: a bundle needs at least one Rego module", ErrInvalid)
	}
	if err := checkMetadata(c.Metadata); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}

	files := make(map[string][]byte, len(c.Modules)+len(c.Data)+len(c.Sources))
	var total int64
	add := func(dir, rel string, body []byte) error {
		name := dir + rel
		if err := checkEntryName(name); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		if err := checkContent(name, body); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		total += int64(len(body))
		if total > cfg.maxSize {
			return fmt.Errorf("%w: files exceed %d bytes", ErrTooLarge, cfg.maxSize)
		}
		files[name] = body
		return nil
	}
	for rel, src := range c.Modules {
		if err := add(regoDir, rel, []byte(src)); err != nil {
			return nil, err
		}
	}
	for rel, doc := range c.Data {
		if err := add(dataDir, rel, slices.Clone(doc)); err != nil {
			return nil, err
		}
	}
	for rel, src := range c.Sources {
		if err := add(sourceDir, rel, slices.Clone(src)); err != nil {
			return nil, err
		}
	}

	m := Manifest{
		Format:       FormatVersion,
		Service:      c.Service,
		Revision:     c.Revision,
		CreatedAt:    c.CreatedAt.UTC().Round(0),
		RootPolicyID: c.RootPolicyID,
		Files:        digestFiles(files),
	}
	m.Digest = contentDigest(m.Files)
	if len(c.Metadata) > 0 {
		m.Metadata = maps.Clone(c.Metadata)
	}
	manifestJSON, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrInvalid, err)
	}
	b := &Bundle{manifest: m, manifestJSON: manifestJSON, files: files}
	if err := b.checkSignedSize(cfg.maxSize); err != nil {
		return nil, err
	}
	return b, nil
}

// checkContent refuses file contents the engine could not use: Rego that
// is not UTF-8, data that is not a JSON document. Readers apply the same
// check, so a producer never publishes what PDPs would refuse.
func checkContent(name string, body []byte) error {
	switch {
	case strings.HasPrefix(name, regoDir) && !utf8.Valid(body):
		return fmt.Errorf("module %q is not valid UTF-8", strings.TrimPrefix(name, regoDir))
	case strings.HasPrefix(name, dataDir) && !json.Valid(body):
		return fmt.Errorf("data document %q is not valid JSON", strings.TrimPrefix(name, dataDir))
	}
	return nil
}

// digestFiles returns the manifest entries of files, ascending by name.
func digestFiles(files map[string][]byte) []FileDigest {
	out := make([]FileDigest, 0, len(files))
	for name, body := range files {
		out = append(out, digestFile(name, body))
	}
	slices.SortFunc(out, func(a, b FileDigest) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// checkSignedSize refuses a bundle whose signed archive would be larger
// than limit once decompressed. A signed manifest differs from an unsigned
// one only by a key id of fixed length, and a signature has a fixed size,
// so the size is computed exactly with placeholders.
func (b *Bundle) checkSignedSize(limit int64) error {
	m := b.manifest
	m.KeyID = strings.Repeat("A", keyIDLen)
	manifestJSON, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("%w: manifest: %w", ErrInvalid, err)
	}
	n := &countWriter{w: io.Discard}
	if err := writeTar(n, manifestJSON, make([]byte, signatureSize), b.files); err != nil {
		return fmt.Errorf("bundle: sizing archive: %w", err)
	}
	if n.n > limit {
		return fmt.Errorf("%w: archive would be %d bytes uncompressed, limit %d", ErrTooLarge, n.n, limit)
	}
	return nil
}
