package token

import (
	"log/slog"
	"time"
)

// VerifierOption configures NewVerifier.
type VerifierOption interface{ applyVerifier(*verifierConfig) }

// KeySetOption configures NewKeySet.
type KeySetOption interface{ applyKeySet(*keySetConfig) }

// HTTPOption configures NewHTTPFetcher.
type HTTPOption interface{ applyHTTP(*httpConfig) }

// Option configures both a Verifier and a KeySet.
type Option interface {
	VerifierOption
	KeySetOption
}

type issuerOption []string

func (o issuerOption) applyVerifier(c *verifierConfig) { c.issuers = append(c.issuers, o...) }

// WithIssuer adds accepted issuers. A token's iss must equal one of them
// exactly. At least one issuer is required: a token from an unexpected
// issuer that happens to share signing keys must not be accepted.
func WithIssuer(issuers ...string) VerifierOption { return issuerOption(issuers) }

type audienceOption []string

func (o audienceOption) applyVerifier(c *verifierConfig) { c.audiences = append(c.audiences, o...) }

// WithAudience adds accepted audiences. One of a token's aud values must
// equal one of them, or match one that contains '*' (a pattern: each '*'
// stands for one or more of A-Z a-z 0-9 . _ -, so "*.example.com" accepts
// "api.example.com"). At least one audience is required, so that a token
// minted for another service is refused.
func WithAudience(audiences ...string) VerifierOption { return audienceOption(audiences) }

type algorithmsOption []string

func (o algorithmsOption) applyVerifier(c *verifierConfig) { c.algs = append(c.algs, o...) }

// WithAlgorithms restricts the accepted JWS algorithms (default: all of
// Algorithms()). It narrows, it never widens: each key is still bound to
// its own algorithm.
func WithAlgorithms(algs ...string) VerifierOption { return algorithmsOption(algs) }

type leewayOption time.Duration

func (o leewayOption) applyVerifier(c *verifierConfig) { c.leeway = time.Duration(o) }

// WithLeeway sets the clock-skew allowance for exp, nbf and iat (default
// DefaultLeeway, at most MaxLeeway).
func WithLeeway(d time.Duration) VerifierOption { return leewayOption(d) }

type typeOption string

func (o typeOption) applyVerifier(c *verifierConfig) { c.typ = string(o) }

// WithType requires the typ header to be typ (compared case-insensitively,
// "application/" optional), for example "at+jwt" for RFC 9068 access tokens,
// so that an ID token or another kind of JWT signed by the same issuer
// cannot be replayed as an access token.
func WithType(typ string) VerifierOption { return typeOption(typ) }

type maxSizeOption int

func (o maxSizeOption) applyVerifier(c *verifierConfig) { c.maxSize = int(o) }

// WithMaxSize sets the largest accepted token in bytes (default
// DefaultMaxSize). Longer input is refused before any decoding.
func WithMaxSize(n int) VerifierOption { return maxSizeOption(n) }

type cacheSizeOption int

func (o cacheSizeOption) applyVerifier(c *verifierConfig) { c.cacheSize = int(o) }

// WithCacheSize bounds the verified-token cache (default DefaultCacheSize
// entries); 0 disables caching.
func WithCacheSize(n int) VerifierOption { return cacheSizeOption(n) }

type criticalOption []string

func (o criticalOption) applyVerifier(c *verifierConfig) { c.critical = append(c.critical, o...) }

// WithCriticalHeaders declares header extensions the application itself
// understands and checks, so that tokens listing them in crit are accepted.
// By default any crit header is refused, as RFC 7515 requires for names a
// recipient does not understand.
func WithCriticalHeaders(names ...string) VerifierOption { return criticalOption(names) }

type clockOption func() time.Time

func (o clockOption) applyVerifier(c *verifierConfig) { c.now = o }
func (o clockOption) applyKeySet(c *keySetConfig)     { c.now = o }

// WithClock replaces time.Now, for tests and for replaying decisions at a
// given instant.
func WithClock(now func() time.Time) Option { return clockOption(now) }

type loggerOption struct{ l *slog.Logger }

func (o loggerOption) applyKeySet(c *keySetConfig) { c.log = o.l }

// WithLogger sets where a KeySet reports refreshes and refresh failures
// (default slog.Default()).
func WithLogger(l *slog.Logger) KeySetOption { return loggerOption{l} }

type refreshIntervalOption time.Duration

func (o refreshIntervalOption) applyKeySet(c *keySetConfig) { c.interval = time.Duration(o) }

// WithRefreshInterval sets how often a KeySet fetches its key set in the
// background (default DefaultRefreshInterval), so that rotated keys are
// picked up before the first token needs them.
func WithRefreshInterval(d time.Duration) KeySetOption { return refreshIntervalOption(d) }

type minRefreshIntervalOption time.Duration

func (o minRefreshIntervalOption) applyKeySet(c *keySetConfig) { c.minInterval = time.Duration(o) }

// WithMinRefreshInterval sets the least time between two fetches triggered
// by unknown kids (default DefaultMinRefreshInterval). Tokens with random
// kids cost nothing more than the first of them within an interval.
func WithMinRefreshInterval(d time.Duration) KeySetOption { return minRefreshIntervalOption(d) }

type symmetricOption struct{}

func (symmetricOption) applyKeySet(c *keySetConfig) { c.symmetric = true }

// WithSymmetricKeys lets a KeySet accept HMAC (oct) secrets. Refused by
// default because a key set is normally public: only use it for a local
// file the verifying service alone can read.
func WithSymmetricKeys() KeySetOption { return symmetricOption{} }

type loopbackOption struct{}

func (loopbackOption) applyHTTP(c *httpConfig) { c.loopbackPlaintext = true }

// AllowLoopbackPlaintext permits an http:// URL whose host is a loopback
// address (a sidecar or a local identity provider). Without it only https
// is accepted; with it, every connection is still checked to reach a
// loopback address.
func AllowLoopbackPlaintext() HTTPOption { return loopbackOption{} }

type httpTimeoutOption time.Duration

func (o httpTimeoutOption) applyHTTP(c *httpConfig) { c.timeout = time.Duration(o) }

// WithHTTPTimeout bounds one fetch, connection to last byte (default
// DefaultHTTPTimeout).
func WithHTTPTimeout(d time.Duration) HTTPOption { return httpTimeoutOption(d) }
