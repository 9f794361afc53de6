package token

import "errors"

// Sentinel errors. Every rejection returned by this package wraps exactly one
// of the token-level sentinels below (with %w and a detail), so callers can
// map a rejection to a status or a metric with errors.Is and still log the
// detail. Messages never contain raw attacker-controlled bytes: values taken
// from a token are quoted and truncated.
var (
	// ErrTooLarge rejects a token longer than the configured limit. It is
	// checked before any decoding so that oversized input costs nothing.
	ErrTooLarge = errors.New("token too large")

	// ErrMalformed rejects input that is not a well-formed compact JWS/JWT:
	// wrong number of segments, bad base64url, invalid or duplicate-key JSON,
	// claims of the wrong JSON type.
	ErrMalformed = errors.New("malformed token")

	// ErrAlgorithm rejects a token whose header alg is "none", unknown, not
	// in the allowed list, or not the algorithm the selected key is bound to.
	ErrAlgorithm = errors.New("algorithm not acceptable")

	// ErrUnknownKey rejects a token whose kid names no key of the key set
	// (after a rate-limited refresh), or that has no kid while the set holds
	// several keys.
	ErrUnknownKey = errors.New("unknown signing key")

	// ErrInvalidKey rejects a token whose key exists but cannot verify
	// signatures: wrong use or key_ops, private material published, RSA
	// modulus too small or weak (ROCA), EC point off its curve, short HMAC
	// secret, and the like.
	ErrInvalidKey = errors.New("key not usable")

	// ErrHeader rejects a token carrying a header parameter Verdict refuses
	// to honour: an embedded key (jwk, x5c), a key URL (jku, x5u), unencoded
	// payloads (b64) or a nested JWT (cty).
	ErrHeader = errors.New("forbidden header parameter")

	// ErrCrit rejects a token whose crit header is empty, malformed, or names
	// a parameter this verifier does not understand.
	ErrCrit = errors.New("unsupported critical header")

	// ErrType rejects a token whose typ header differs from the configured one.
	ErrType = errors.New("wrong token type")

	// ErrSignature rejects a token whose signature is empty, malformed (for
	// example ECDSA r or s outside [1, n-1]) or does not verify.
	ErrSignature = errors.New("invalid signature")

	// ErrExpired rejects a token whose exp (plus leeway) has passed.
	ErrExpired = errors.New("token expired")

	// ErrNotYetValid rejects a token whose nbf or iat lies in the future
	// beyond the leeway.
	ErrNotYetValid = errors.New("token not yet valid")

	// ErrMissingClaim rejects a token lacking a required claim (exp, iss, aud).
	ErrMissingClaim = errors.New("required claim missing")

	// ErrIssuer rejects a token whose iss is not one of the configured issuers.
	ErrIssuer = errors.New("issuer not accepted")

	// ErrAudience rejects a token none of whose aud values matches the
	// configured audiences or audience patterns.
	ErrAudience = errors.New("audience not accepted")
)

// Errors about key sets and configuration rather than about one token.
var (
	// ErrInvalidKeySet reports a JWKS document that cannot be used as a whole:
	// not JSON, duplicate kid, symmetric keys mixed with asymmetric ones,
	// symmetric keys where they are not allowed, too many keys.
	ErrInvalidKeySet = errors.New("invalid key set")

	// ErrFetch reports that a key set could not be fetched or refreshed.
	ErrFetch = errors.New("key set fetch failed")

	// ErrRateLimited reports a refresh refused because the previous fetch was
	// too recent; it keeps tokens with random kids from hammering the issuer.
	ErrRateLimited = errors.New("key set refresh rate-limited")

	// ErrClosed reports a refresh asked of a KeySet after Close.
	ErrClosed = errors.New("key set closed")

	// ErrConfig reports an invalid option given to a constructor.
	ErrConfig = errors.New("invalid configuration")
)
