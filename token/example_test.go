package token_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/verdict-authz/verdict/token"
)

// A service verifies bearer tokens against its issuer's key set and hands
// the claims to the policy engine as subject attributes.
func ExampleVerifier() {
	// The issuer's key (fixed here so the example is reproducible).
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	x := base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
	keys, err := token.ParseJWKS([]byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"2030-01","x":"` + x + `"}]}`))
	if err != nil {
		panic(err)
	}
	// In production: token.NewKeySet(ctx, fetcher) with an HTTPFetcher.
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	v, err := token.NewVerifier(keys,
		token.WithIssuer("https://id.example.com"),
		token.WithAudience("*.orders.example.com"),
		token.WithClock(func() time.Time { return now }),
	)
	if err != nil {
		panic(err)
	}

	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{
		"iss": "https://id.example.com", "aud": "eu.orders.example.com", "sub": "alice",
		"scope": "orders:read orders:write", "exp": now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = "2030-01"
	raw, err := tok.SignedString(priv)
	if err != nil {
		panic(err)
	}

	claims, err := v.Verify(context.Background(), raw)
	if err != nil {
		panic(err)
	}
	attrs := claims.Attributes()
	fmt.Println(attrs["scope"], attrs[token.SubjectIDAttribute])

	_, err = v.Verify(context.Background(), raw[:len(raw)-4]+"AAAA")
	fmt.Println(errors.Is(err, token.ErrSignature))
	// Output:
	// [orders:read orders:write] [alice]
	// true
}
