// Package token validates the JWTs that reach Verdict's policy enforcement
// points and turns their claims into XACML subject attributes.
//
// It is built on github.com/golang-jwt/jwt/v5 — its signature algorithms
// and its claims Validator for exp, nbf and iat — and adds what that
// library leaves to the caller:
//
//   - Keys come only from a configured key set (a JWKS file or URL, see
//     KeySet), never from the token: jwk, jku, x5u and x5c headers are
//     refused. An unknown kid triggers a rate-limited refresh, then
//     ErrUnknownKey.
//   - Each key is bound to its algorithm: a JWK's alg, when present, is the
//     only one it accepts; otherwise its kty and curve decide (an EC P-256
//     key verifies ES256 only, an RSA key RS* and PS*, an oct key HS* if the
//     secret is at least the hash size). The header's alg alone never
//     decides, "none" is never accepted, and WithAlgorithms narrows further.
//   - Keys are validated when the set is parsed: RSA moduli of 2048 to 8192
//     bits (MinRSABits: the NIST floor for signatures), odd public
//     exponents of at least 3, no ROCA fingerprint; EC points on the named
//     curve with full-length coordinates; Ed25519 keys of 32 bytes; HMAC
//     secrets of at least 256 bits; use "sig" and key_ops with "verify"
//     when present; no private members. A set mixing HMAC secrets with
//     public keys, or with duplicate kids, is refused whole; a URL-fetched
//     set may not contain HMAC secrets at all unless WithSymmetricKeys.
//   - Strict parsing: tokens above the size limit (default 16 KiB) are
//     refused before decoding; base64url must be canonical (no padding,
//     whitespace or stray bits); header and claims must be UTF-8 JSON
//     objects without duplicate members; the payload is parsed only after
//     the signature verified. Only the compact serialization is accepted.
//   - Signatures: empty ones are refused; ECDSA r and s must lie in
//     [1, n-1]; RSA-PSS salts must be the hash length (RFC 7518 3.5).
//   - Headers: crit must be non-empty and list only extensions declared
//     with WithCriticalHeaders; typ is enforced when WithType is set; b64
//     and nested JWTs (cty JWT) are refused.
//   - Claims: exp is required; exp, nbf and iat are checked with a bounded
//     leeway (at most MaxLeeway); iss must equal a configured issuer; aud
//     must equal a configured audience or match a pattern such as
//     "*.example.com".
//   - Verified tokens are cached by SHA-256 until exp, in a bounded cache
//     sharded across independently locked shards; an entry is dropped as
//     soon as its key leaves the key set.
//
// Every rejection wraps one sentinel error (ErrExpired, ErrAlgorithm,
// ErrUnknownKey, ErrSignature, ...) for errors.Is, with the detail in its
// message; untrusted values in messages are quoted and truncated.
//
// Claims.Attributes gives the claims as plain Go data following DESIGN.md's
// attribute table; this package imports nothing else of Verdict's.
package token
