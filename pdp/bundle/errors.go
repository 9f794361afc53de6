package bundle

import "errors"

// Sentinel errors. Every refusal from this package wraps exactly one of
// them (plus details), so that a PDP can decide what to report and whether
// to keep its last good bundle with errors.Is, never by matching text.
var (
	// ErrUnsigned means the bundle or key set carries no signature, which a
	// PDP must never activate.
	ErrUnsigned = errors.New("bundle: unsigned")
	// ErrUnknownKey means the signing key is not trusted now: never
	// configured or delivered, outside its validity window, or revoked by a
	// newer key set.
	ErrUnknownKey = errors.New("bundle: signing key not trusted")
	// ErrSignature means the signature does not verify: the manifest or key
	// set was altered after signing, or was signed by another key.
	ErrSignature = errors.New("bundle: bad signature")
	// ErrDigest means a file does not match the digest the manifest records
	// for it, or is missing or extra: the archive was tampered with.
	ErrDigest = errors.New("bundle: digest mismatch")
	// ErrStale means the revision (or key set version) is not newer than the
	// one already active: a replayed old bundle must not roll a PDP back.
	ErrStale = errors.New("bundle: stale revision")
	// ErrService means the bundle was built for another service.
	ErrService = errors.New("bundle: wrong service")
	// ErrFormat means the archive or document is malformed: bad gzip or tar,
	// unexpected or misplaced entries, unsafe paths, non-canonical JSON.
	ErrFormat = errors.New("bundle: malformed")
	// ErrTooLarge means the archive exceeds the configured size limit, which
	// protects PDPs from decompression bombs and memory exhaustion.
	ErrTooLarge = errors.New("bundle: too large")
	// ErrInvalid means the producer's input cannot form a valid bundle or
	// key (bad service name, path, JSON data, revision...), so that the PAP
	// refuses a push before signing anything.
	ErrInvalid = errors.New("bundle: invalid input")
)
