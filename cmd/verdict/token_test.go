package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// tokenFixture is an ES256 issuer with its JWKS written to a file.
type tokenFixture struct {
	key      *ecdsa.PrivateKey
	jwks     []byte
	jwksPath string
}

func newTokenFixture(t *testing.T) *tokenFixture {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := key.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	jwks, err := json.Marshal(map[string]any{"keys": []any{map[string]any{
		"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": "k1",
		"x": enc(raw[1:33]), "y": enc(raw[33:]),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	return &tokenFixture{key: key, jwks: jwks, jwksPath: path}
}

func (f *tokenFixture) sign(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = "k1"
	s, err := tok.SignedString(f.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss": "https://id.example", "aud": "api://orders", "sub": "alice",
		"scope": "orders:read", "price": json.Number("27.50"),
		"exp": time.Now().Add(time.Hour).Unix(),
	}
}

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), &cliEnv{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}, args)
	return code, out.String(), errOut.String()
}

func TestTokenVerifyCLI(t *testing.T) {
	f := newTokenFixture(t)
	valid := f.sign(t, validClaims())
	base := []string{"token", "verify", "--jwks", f.jwksPath, "--issuer", "https://id.example", "--audience", "api://orders"}
	args := func(extra ...string) []string { return append(append([]string(nil), base...), extra...) }

	cases := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		reason string // substring of the single stderr line when code != 0
	}{
		{name: "valid", args: args(valid), code: 0},
		{name: "valid from stdin", stdin: valid + "\n", args: args("-"), code: 0},
		{name: "flags after the token", args: append([]string{"token", "verify", valid}, base[2:]...), code: 0},
		{name: "audience pattern", args: []string{"token", "verify", "--jwks", f.jwksPath, "--issuer", "https://id.example", "--audience", "*.example.com", f.sign(t, mergeClaims(validClaims(), "aud", "eu.api.example.com"))}, code: 0},
		{name: "allowed alg", args: args("--alg", "RS256,ES256", valid), code: 0},

		{name: "expired", args: args(f.sign(t, mergeClaims(validClaims(), "exp", time.Now().Add(-time.Hour).Unix()))), code: 1, reason: "token expired"},
		{name: "wrong audience", args: args(f.sign(t, mergeClaims(validClaims(), "aud", "api://billing"))), code: 1, reason: "audience not accepted"},
		{name: "wrong issuer", args: args(f.sign(t, mergeClaims(validClaims(), "iss", "https://evil.example"))), code: 1, reason: "issuer not accepted"},
		{name: "alg not allowed", args: args("--alg", "RS256", valid), code: 1, reason: "algorithm not acceptable"},
		{name: "tampered", args: args(valid[:len(valid)-4] + "AAAA"), code: 1, reason: "invalid signature"},
		{name: "garbage", args: args("not-a-token"), code: 1, reason: "malformed token"},
		{name: "oversized on stdin", stdin: strings.Repeat("a", 20000), args: args("-"), code: 1, reason: "token too large"},
		{name: "custom max size", args: args("--max-size", "100", valid), code: 1, reason: "token too large"},
		{name: "typ required", args: args("--typ", "at+jwt", valid), code: 1, reason: "wrong token type"},

		{name: "no token", args: args(), code: 2},
		{name: "two tokens", args: args(valid, valid), code: 2},
		{name: "no issuer", args: []string{"token", "verify", "--jwks", f.jwksPath, "--audience", "a", valid}, code: 2},
		{name: "no audience", args: []string{"token", "verify", "--jwks", f.jwksPath, "--issuer", "i", valid}, code: 2},
		{name: "no jwks", args: []string{"token", "verify", "--issuer", "i", "--audience", "a", valid}, code: 2},
		{name: "unknown alg name", args: args("--alg", "ES256K", valid), code: 2},
		{name: "missing jwks file", args: []string{"token", "verify", "--jwks", filepath.Join(t.TempDir(), "none.json"), "--issuer", "i", "--audience", "a", valid}, code: 2},
		{name: "plaintext jwks URL", args: []string{"token", "verify", "--jwks", "http://id.example/jwks", "--issuer", "i", "--audience", "a", valid}, code: 2},
		{name: "unknown flag", args: args("--nope", valid), code: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, c.stdin, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, c.code, stderr)
			}
			switch c.code {
			case 0:
				var claims map[string]any
				if err := json.Unmarshal([]byte(stdout), &claims); err != nil {
					t.Fatalf("stdout is not JSON claims: %v\n%s", err, stdout)
				}
				if claims["sub"] != "alice" {
					t.Errorf("claims: %v", claims)
				}
				if !strings.Contains(stdout, `"price": 27.50`) {
					t.Errorf("number not printed as given: %s", stdout)
				}
				if stderr != "" {
					t.Errorf("stderr on success: %q", stderr)
				}
			case 1:
				if stdout != "" {
					t.Errorf("stdout on rejection: %q", stdout)
				}
				if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
					t.Errorf("want exactly one stderr line, got %q", stderr)
				}
				if !strings.Contains(stderr, c.reason) {
					t.Errorf("stderr %q does not name %q", stderr, c.reason)
				}
			}
		})
	}
}

func TestTokenVerifyCLIKeySets(t *testing.T) {
	f := newTokenFixture(t)
	valid := f.sign(t, validClaims())
	verify := func(jwks string, extra ...string) (int, string) {
		args := append([]string{"token", "verify", "--jwks", jwks, "--issuer", "https://id.example", "--audience", "api://orders"}, extra...)
		code, _, stderr := runCLI(t, "", append(args, valid)...)
		return code, stderr
	}

	// A key set whose content is unusable rejects the token.
	dup := filepath.Join(t.TempDir(), "dup.json")
	var doc map[string][]any
	if err := json.Unmarshal(f.jwks, &doc); err != nil {
		t.Fatal(err)
	}
	doc["keys"] = append(doc["keys"], doc["keys"][0])
	if err := os.WriteFile(dup, mustMarshal(t, doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := verify(dup); code != 1 || !strings.Contains(stderr, "duplicate kid") {
		t.Errorf("duplicate kid: exit %d, %q", code, stderr)
	}

	// From an https URL, trusting the server through --jwks-ca.
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(f.jwks) }))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stderr := verify(srv.URL+"/jwks", "--jwks-ca", ca); code != 0 {
		t.Errorf("https JWKS: exit %d, %q", code, stderr)
	}
	// Without the CA the server is not trusted: the key set is unreadable.
	if code, stderr := verify(srv.URL + "/jwks"); code != 2 || strings.Count(stderr, "\n") != 1 {
		t.Errorf("untrusted https JWKS: exit %d, %q", code, stderr)
	}
}

func mergeClaims(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
