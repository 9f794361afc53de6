// Package bundle is the policy bundle format that the PAP writes and every
// PDP reads: one signed, self-describing archive per service revision.
//
// It is the only contract between producer and consumer, so it depends on
// nothing else of Verdict's (no pap, xacml, sdk or cmd) and on nothing
// outside the standard library.
//
// # Archive layout
//
// A bundle is a single-member gzip stream (no file name, zero mtime) around
// a tar stream whose entries come in exactly this order:
//
//	manifest.json    the canonical JSON Manifest
//	manifest.sig     64-byte Ed25519 signature (absent when unsigned)
//	data/<path>      JSON data documents, e.g. data/data.json
//	rego/<path>      compiled Rego modules (*.rego)
//	source/<path>    source policies (XACML XML or YAML), kept for audit and replay
//
// Files follow the two manifest entries in ascending byte order of their
// names. Every entry is a regular file with mode 0644, mtime 0 and uid/gid
// 0, so the same bundle always serializes to the same bytes. Paths are
// slash-separated, relative, and free of "." and ".." elements.
//
// # Integrity and authenticity
//
// The manifest lists the SHA-256 digest and size of every file, and the
// content digest: SHA-256 over the lines "<hex digest>  <name>\n" of all
// files in order (the output of sha256sum), so that an operator can check
// it on an unpacked bundle with
//
//	find data rego source -type f | LC_ALL=C sort | xargs sha256sum | sha256sum
//
// The content digest therefore depends on the files only: the same content
// always has the same digest, whatever its revision, time or signer.
//
// The signature is Ed25519 over the domain-separation prefix
// "verdict-bundle-manifest-v1\n" followed by the exact manifest bytes, which
// include every file digest and the signing key id. Key ids are derived
// from the public key (base64url of the first 16 bytes of its SHA-256), so
// a key id can never name a different key.
//
// # Keys and rotation
//
// PDPs trust keys configured locally in a key file, or delivered in a
// KeySet signed by a key they already trust (see TrustStore). Rotation with
// overlap is a new KeySet version listing the old and the new key with
// not-before/not-after bounds, signed by the old one.
package bundle
