package token

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Verifier defaults and bounds.
const (
	// DefaultMaxSize is the default token size limit (16 KiB), far above
	// real tokens (1-4 KiB) and far below what would make parsing costly.
	DefaultMaxSize = 16 << 10
	// MaxTokenSize is the largest limit WithMaxSize accepts.
	MaxTokenSize = 1 << 20
	// DefaultLeeway is the default clock-skew allowance.
	DefaultLeeway = 30 * time.Second
	// MaxLeeway bounds WithLeeway: more would let expired tokens live on.
	MaxLeeway = 5 * time.Minute
	// DefaultCacheSize is the default number of cached verified tokens.
	DefaultCacheSize = 10000
)

// maxNumericDate is 9999-12-31T23:59:59Z. Larger exp, nbf or iat values are
// refused as malformed: beyond it conversions to time overflow, and an nbf
// that overflowed into the past would make a token valid too early.
const maxNumericDate = 253402300799

type verifierConfig struct {
	issuers   []string
	audiences []string
	algs      []string
	leeway    time.Duration
	typ       string
	maxSize   int
	cacheSize int
	critical  []string
	now       func() time.Time
}

// Verifier validates JWTs (compact JWS, RFC 7519) against a key source and
// turns them into Claims. It is safe for concurrent use; create one per
// issuer/audience configuration and share it.
//
// A token is accepted only if, in order: it is at most the size limit; it is
// three base64url segments; its header is strict JSON with an allowed alg
// (never "none"), no embedded or remote key (jwk, jku, x5u, x5c), no
// unencoded payload (b64), no nested JWT (cty), a crit that lists only
// understood extensions, and the configured typ; its kid names a key of the
// source (refreshed, rate-limited, when unknown); that key is valid and
// bound to the header's alg; the signature verifies; and then the claims
// are strict JSON with exp in the future, nbf and iat not in the future
// (both within the leeway), iss one of the issuers and an aud that matches.
type Verifier struct {
	keys      KeySource
	policy    jwsPolicy
	issuers   map[string]bool
	audience  audienceMatcher
	leeway    time.Duration
	maxSize   int
	now       func() time.Time
	cache     *tokenCache
	timeRules *jwt.Validator
}

// NewVerifier builds a Verifier. WithIssuer and WithAudience are required.
// Errors wrap ErrConfig.
func NewVerifier(keys KeySource, opts ...VerifierOption) (*Verifier, error) {
	if keys == nil {
		return nil, fmt.Errorf("%w: nil key source", ErrConfig)
	}
	cfg := verifierConfig{
		leeway:    DefaultLeeway,
		maxSize:   DefaultMaxSize,
		cacheSize: DefaultCacheSize,
		now:       time.Now,
	}
	for _, o := range opts {
		o.applyVerifier(&cfg)
	}
	v := &Verifier{keys: keys, leeway: cfg.leeway, maxSize: cfg.maxSize, now: cfg.now, issuers: map[string]bool{}}
	for _, iss := range cfg.issuers {
		if iss == "" {
			return nil, fmt.Errorf("%w: empty issuer", ErrConfig)
		}
		v.issuers[iss] = true
	}
	if len(v.issuers) == 0 {
		return nil, fmt.Errorf("%w: at least one issuer is required (WithIssuer)", ErrConfig)
	}
	var err error
	if v.audience, err = newAudienceMatcher(cfg.audiences); err != nil {
		return nil, err
	}
	if v.policy.algs, err = newAlgorithmSet(cfg.algs); err != nil {
		return nil, err
	}
	switch {
	case cfg.leeway < 0 || cfg.leeway > MaxLeeway:
		return nil, fmt.Errorf("%w: leeway %s outside [0, %s]", ErrConfig, cfg.leeway, MaxLeeway)
	case cfg.maxSize <= 0 || cfg.maxSize > MaxTokenSize:
		return nil, fmt.Errorf("%w: max size %d outside [1, %d]", ErrConfig, cfg.maxSize, MaxTokenSize)
	case cfg.cacheSize < 0:
		return nil, fmt.Errorf("%w: negative cache size", ErrConfig)
	case cfg.now == nil:
		return nil, fmt.Errorf("%w: nil clock", ErrConfig)
	}
	v.policy.typ = cfg.typ
	v.policy.jwt = true
	v.policy.critical = map[string]bool{}
	for _, name := range cfg.critical {
		if name == "" || registeredHeader(name) || name == "b64" {
			return nil, fmt.Errorf("%w: %q cannot be declared as an understood critical header", ErrConfig, name)
		}
		v.policy.critical[name] = true
	}
	if cfg.cacheSize > 0 {
		v.cache = newTokenCache(cfg.cacheSize)
	}
	v.timeRules = jwt.NewValidator(
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.leeway),
		jwt.WithTimeFunc(cfg.now),
	)
	return v, nil
}

// Verify validates a compact JWT and returns its claims. Every error wraps
// one of the package's sentinel errors (ErrExpired, ErrAlgorithm, ...).
//
// A token verified before is answered from the cache (keyed by its SHA-256)
// until its exp, as long as the key that verified it is still in the key
// set: rotating a key out also retires the cached tokens it signed.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	if len(raw) > v.maxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(raw), v.maxSize)
	}
	if raw == "" {
		return nil, fmt.Errorf("%w: empty token", ErrMalformed)
	}
	now := v.now()
	var sum [32]byte
	if v.cache != nil {
		sum = tokenHash(raw)
		if e, ok := v.cache.get(&sum, now); ok {
			if set, err := v.keys.Current(ctx); err == nil && set.holds(e.key, e.header.kid, e.header.hasKid) {
				return e.claims, nil
			}
			v.cache.delete(&sum)
		}
	}
	jws, err := v.policy.verify(ctx, raw, v.keys)
	if err != nil {
		return nil, err
	}
	claims, err := v.validateClaims(jws)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.put(&sum, cacheEntry{claims: claims, key: jws.key, header: jws.header, until: claims.exp}, now)
	}
	return claims, nil
}

// tokenHash is the cache key of a token. Typical tokens are hashed from a
// stack buffer, so a cache hit does not allocate.
func tokenHash(raw string) [32]byte {
	var buf [2048]byte
	if len(raw) <= len(buf) {
		return sha256.Sum256(append(buf[:0], raw...))
	}
	return sha256.Sum256([]byte(raw))
}

// validateClaims parses the verified payload and checks the registered
// claims. golang-jwt's Validator compares exp, nbf and iat with the leeway;
// the checks it does not make (types and ranges of the dates, several
// issuers, audience patterns, required iss and aud) are made here.
func (v *Verifier) validateClaims(jws verifiedJWS) (*Claims, error) {
	m, err := decodeObject(jws.payload)
	if err != nil {
		return nil, fmt.Errorf("%w: claims: %w", ErrMalformed, err)
	}
	exp, hasExp, err := numericDate(m, "exp")
	if err != nil {
		return nil, err
	}
	if !hasExp {
		return nil, fmt.Errorf("%w: exp", ErrMissingClaim)
	}
	nbf, _, err := numericDate(m, "nbf")
	if err != nil {
		return nil, err
	}
	iat, _, err := numericDate(m, "iat")
	if err != nil {
		return nil, err
	}
	if err := v.timeRules.Validate(jwt.MapClaims(m)); err != nil {
		const layout = time.RFC3339
		now := v.now().UTC().Format(layout)
		switch {
		case errors.Is(err, jwt.ErrTokenExpired):
			return nil, fmt.Errorf("%w: exp %s, now %s (leeway %s)", ErrExpired, exp.UTC().Format(layout), now, v.leeway)
		case errors.Is(err, jwt.ErrTokenNotValidYet):
			return nil, fmt.Errorf("%w: nbf %s, now %s (leeway %s)", ErrNotYetValid, nbf.UTC().Format(layout), now, v.leeway)
		case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
			return nil, fmt.Errorf("%w: iat %s is in the future, now %s (leeway %s)", ErrNotYetValid, iat.UTC().Format(layout), now, v.leeway)
		case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
			return nil, fmt.Errorf("%w: %v", ErrMissingClaim, err)
		default:
			return nil, fmt.Errorf("%w: claims: %v", ErrMalformed, err)
		}
	}

	iss, ok := m["iss"]
	if !ok {
		return nil, fmt.Errorf("%w: iss", ErrMissingClaim)
	}
	issuer, ok := iss.(string)
	if !ok {
		return nil, fmt.Errorf("%w: iss is not a string", ErrMalformed)
	}
	if !v.issuers[issuer] {
		return nil, fmt.Errorf("%w: iss %s", ErrIssuer, quote(issuer))
	}

	auds, err := audienceClaim(m)
	if err != nil {
		return nil, err
	}
	matched := false
	for _, a := range auds {
		if v.audience.match(a) {
			matched = true
			break
		}
	}
	if !matched {
		if len(auds) == 1 {
			return nil, fmt.Errorf("%w: aud %s", ErrAudience, quote(auds[0]))
		}
		return nil, fmt.Errorf("%w: none of %d aud values matches", ErrAudience, len(auds))
	}

	if sub, ok := m["sub"]; ok {
		if _, isString := sub.(string); !isString {
			return nil, fmt.Errorf("%w: sub is not a string", ErrMalformed)
		}
	}
	return &Claims{m: m, exp: exp, keyID: jws.header.kid, alg: jws.header.alg}, nil
}

// numericDate reads a NumericDate claim (RFC 7519 section 2): a JSON number
// of seconds since the epoch, fractions allowed, within [0, year 9999].
func numericDate(m map[string]any, name string) (time.Time, bool, error) {
	v, ok := m[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, true, fmt.Errorf("%w: %s is not a number", ErrMalformed, name)
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, true, fmt.Errorf("%w: %s %s is not a date between 1970 and 9999", ErrMalformed, name, quote(string(n)))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// audienceClaim reads aud: a string or a non-empty array of strings.
func audienceClaim(m map[string]any) ([]string, error) {
	switch x := m["aud"].(type) {
	case nil:
		return nil, fmt.Errorf("%w: aud", ErrMissingClaim)
	case string:
		if x == "" {
			return nil, fmt.Errorf("%w: aud is empty", ErrMissingClaim)
		}
		return []string{x}, nil
	case []any:
		if len(x) == 0 {
			return nil, fmt.Errorf("%w: aud is empty", ErrMissingClaim)
		}
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%w: aud holds a non-string", ErrMalformed)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: aud is neither a string nor an array", ErrMalformed)
}
