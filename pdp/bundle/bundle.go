package bundle

import (
	"bytes"
	"maps"
	"strings"
)

// Bundle is one revision of a service's policies as the PAP publishes it
// and a PDP activates it. It is immutable: accessors return copies, so that
// nothing can change a bundle after its digests were checked.
//
// A Bundle comes from New (unsigned), Sign (signed), or Read, Open and
// ReadFile. Only one from Open or ReadFile, or one that passed Verify, may
// be activated.
type Bundle struct {
	manifest     Manifest
	manifestJSON []byte            // the exact bytes that are signed
	signature    []byte            // nil when unsigned
	files        map[string][]byte // archive name → content
}

// Manifest returns a copy of the manifest: service, revision, digests and
// signer, for logs, heartbeats and activation decisions.
func (b *Bundle) Manifest() Manifest { return b.manifest.clone() }

// Digest returns the content digest, "sha256:<hex>", which heartbeats and
// pointer messages use to name what a PDP runs.
func (b *Bundle) Digest() string { return b.manifest.Digest }

// Modules returns the compiled Rego modules by path (without the "rego/"
// prefix), which is what the engine compiles.
func (b *Bundle) Modules() map[string]string {
	out := make(map[string]string)
	for name, body := range b.files {
		if rel, ok := strings.CutPrefix(name, regoDir); ok {
			out[rel] = string(body)
		}
	}
	return out
}

// Data returns the JSON data documents by path (without "data/"), e.g.
// "data.json" holding the target index.
func (b *Bundle) Data() map[string][]byte { return b.filesIn(dataDir) }

// Sources returns the source policies by path (without "source/"), kept so
// that auditors can replay a decision against what the author wrote.
func (b *Bundle) Sources() map[string][]byte { return b.filesIn(sourceDir) }

// filesIn copies the files under dir, keyed by path inside dir.
func (b *Bundle) filesIn(dir string) map[string][]byte {
	out := make(map[string][]byte)
	for name, body := range b.files {
		if rel, ok := strings.CutPrefix(name, dir); ok {
			out[rel] = bytes.Clone(body)
		}
	}
	return out
}

// withSignature returns a bundle sharing b's files (never mutated) with
// another manifest and signature.
func (b *Bundle) withSignature(m Manifest, manifestJSON, sig []byte) *Bundle {
	return &Bundle{manifest: m, manifestJSON: manifestJSON, signature: sig, files: maps.Clone(b.files)}
}
