package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/verdict-authz/verdict/token"
)

// runTokenVerify implements contract 4:
//
//	verdict token verify --jwks JWKS.json --issuer ISS --audience AUD [--alg ES256,RS256,...] TOKEN|-
//
// Exit 0 with the claims as JSON on stdout when the token is valid; exit 1
// with one line naming the reason on stderr when it is rejected (including
// a key set whose content makes verification impossible); exit 2 for usage
// errors and unreadable inputs.
func runTokenVerify(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlagSet("token verify", env.stderr)
	jwks := fs.String("jwks", "", "JWKS file, or an https:// URL to fetch it from (required)")
	jwksCA := fs.String("jwks-ca", "", "PEM file of CA certificates trusted for an https --jwks URL (default: system roots)")
	var issuers, audiences stringList
	fs.Var(&issuers, "issuer", "accepted issuer (iss); repeatable (required)")
	fs.Var(&audiences, "audience", "accepted audience (aud), '*' patterns such as *.example.com allowed; repeatable (required)")
	algs := fs.String("alg", "", "comma-separated allowed algorithms (default: "+strings.Join(token.Algorithms(), ",")+")")
	leeway := fs.Duration("leeway", token.DefaultLeeway, "clock-skew allowance for exp, nbf and iat (at most "+token.MaxLeeway.String()+")")
	typ := fs.String("typ", "", "required typ header, e.g. at+jwt (default: any)")
	maxSize := fs.Int("max-size", token.DefaultMaxSize, "largest accepted token in bytes")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 1:
		return exitf(2, "expected one TOKEN argument (or - to read it from stdin), got %d", len(pos))
	case *jwks == "":
		return exitf(2, "--jwks is required")
	case len(issuers) == 0:
		return exitf(2, "--issuer is required")
	case len(audiences) == 0:
		return exitf(2, "--audience is required")
	}

	raw := pos[0]
	if raw == "-" {
		// Read a little more than the limit so that an oversized token is
		// reported as such rather than truncated into a malformed one.
		b, err := io.ReadAll(io.LimitReader(env.stdin, int64(*maxSize)+64))
		if err != nil {
			return exitf(2, "reading token from stdin: %v", err)
		}
		raw = strings.TrimSpace(string(b))
	}

	keys, closeKeys, err := loadKeys(ctx, *jwks, *jwksCA)
	if err != nil {
		return err
	}
	defer closeKeys()

	opts := []token.VerifierOption{
		token.WithIssuer(issuers...),
		token.WithAudience(audiences...),
		token.WithLeeway(*leeway),
		token.WithMaxSize(*maxSize),
		token.WithCacheSize(0),
	}
	if *algs != "" {
		opts = append(opts, token.WithAlgorithms(strings.Split(*algs, ",")...))
	}
	if *typ != "" {
		opts = append(opts, token.WithType(*typ))
	}
	v, err := token.NewVerifier(keys, opts...)
	if err != nil {
		return exitf(2, "%v", err)
	}
	claims, err := v.Verify(ctx, raw)
	if err != nil {
		return exitf(1, "rejected: %v", err)
	}
	enc := json.NewEncoder(env.stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(claims); err != nil {
		return exitf(2, "writing claims: %v", err)
	}
	return nil
}

// loadKeys reads the key set from a file, or fetches it once from an
// https URL. Unreadable inputs exit 2; a key set that cannot be used
// rejects the token (exit 1).
func loadKeys(ctx context.Context, src, caFile string) (token.KeySource, func(), error) {
	nothing := func() {}
	if !strings.HasPrefix(src, "https://") && !strings.HasPrefix(src, "http://") {
		if caFile != "" {
			return nil, nothing, exitf(2, "--jwks-ca applies only to an https --jwks URL")
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, nothing, exitf(2, "reading --jwks: %v", err)
		}
		set, err := token.ParseJWKS(data)
		if err != nil {
			return nil, nothing, exitf(1, "rejected: %s: %v", src, err)
		}
		return set, nothing, nil
	}
	var cfg *tls.Config
	if caFile != "" {
		pool, err := loadCertPool(caFile)
		if err != nil {
			return nil, nothing, exitf(2, "--jwks-ca: %v", err)
		}
		cfg = &tls.Config{RootCAs: pool}
	}
	fetcher, err := token.NewHTTPFetcher(src, cfg)
	if err != nil {
		return nil, nothing, exitf(2, "%v", err)
	}
	fetchCtx, cancel := context.WithTimeout(ctx, token.DefaultHTTPTimeout)
	defer cancel()
	// The reason goes to stderr once, through the exit error, not as a log line.
	ks, err := token.NewKeySet(fetchCtx, fetcher, token.WithRefreshInterval(time.Hour), token.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		if errors.Is(err, token.ErrInvalidKeySet) {
			return nil, nothing, exitf(1, "rejected: %v", err)
		}
		return nil, nothing, exitf(2, "%v", err)
	}
	return ks, func() { ks.Close() }, nil
}
