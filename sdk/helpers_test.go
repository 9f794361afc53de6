package sdk_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/token"
	"github.com/verdict-authz/verdict/xacml"
)

// compileFile compiles a test policy (XACML XML or YAML) into what the
// engine activates. Only tests compile: the SDK runs compiled bundles.
func compileFile(tb testing.TB, path, service string, revision uint64) *pdp.Policy {
	tb.Helper()
	e, err := xacml.ParseFile(path)
	if err != nil {
		tb.Fatalf("parse %s: %v", path, err)
	}
	c, err := build.CompileRoot([]xacml.Evaluable{e}, "")
	if err != nil {
		tb.Fatalf("compile %s: %v", path, err)
	}
	return c.EnginePolicy(service, revision)
}

// compileYAML compiles a policy written inline.
func compileYAML(tb testing.TB, src, service string, revision uint64) *pdp.Policy {
	tb.Helper()
	e, err := xacml.ParseYAML("inline.yaml", []byte(src))
	if err != nil {
		tb.Fatalf("parse: %v", err)
	}
	c, err := build.CompileRoot([]xacml.Evaluable{e}, "")
	if err != nil {
		tb.Fatalf("compile: %v", err)
	}
	return c.EnginePolicy(service, revision)
}

var routesOnce struct {
	sync.Once
	p *pdp.Policy
}

// routesPolicy is testdata/routes.yaml, compiled once per test binary.
func routesPolicy(tb testing.TB) *pdp.Policy {
	routesOnce.Do(func() { routesOnce.p = compileFile(tb, filepath.Join("testdata", "routes.yaml"), "routes", 1) })
	if routesOnce.p == nil {
		tb.Fatal("routes policy did not compile")
	}
	return routesOnce.p
}

// pki is a throwaway CA with server and client certificates.
type pki struct {
	caPool *x509.CertPool
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
}

func newPKI(tb testing.TB) *pki {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sdk test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &pki{caPool: pool, caCert: cert, caKey: key}
}

var serial struct {
	sync.Mutex
	n int64
}

// issue returns a certificate for 127.0.0.1 (server) or with the given URI
// SANs (client).
func (p *pki) issue(tb testing.TB, server bool, uris ...string) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	serial.Lock()
	serial.n++
	n := serial.n + 1
	serial.Unlock()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(n),
		Subject:      pkix.Name{CommonName: fmt.Sprintf("sdk test %d", n)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	} else {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil {
			tb.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.caCert, &key.PublicKey, p.caKey)
	if err != nil {
		tb.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// serverTLS verifies client certificates when given (mTLS), as services do
// when some callers are workloads and others users behind a gateway.
func (p *pki) serverTLS(tb testing.TB) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{p.issue(tb, true)},
		ClientCAs:    p.caPool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
		MinVersion:   tls.VersionTLS12,
	}
}

// clientTLS presents a certificate with the given SPIFFE ID ("" for none).
func (p *pki) clientTLS(tb testing.TB, spiffeID string) *tls.Config {
	cfg := &tls.Config{RootCAs: p.caPool, MinVersion: tls.VersionTLS12}
	if spiffeID != "" {
		cfg.Certificates = []tls.Certificate{p.issue(tb, false, spiffeID)}
	}
	return cfg
}

// issuer signs ES256 tokens and publishes the matching JWKS.
type issuer struct {
	key *ecdsa.PrivateKey
	kid string
}

const (
	testIssuer   = "https://id.example.com"
	testAudience = "todo.example.com"
)

func newIssuer(tb testing.TB) *issuer {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return &issuer{key: key, kid: "test-es256"}
}

// jwks is the issuer's key set, as an IdP publishes it.
func (i *issuer) jwks() []byte {
	enc := func(n *big.Int) string {
		b := make([]byte, 32)
		return base64.RawURLEncoding.EncodeToString(n.FillBytes(b))
	}
	return fmt.Appendf(nil, `{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":%q,"x":%q,"y":%q}]}`,
		i.kid, enc(i.key.X), enc(i.key.Y))
}

// verifier validates the issuer's tokens for the test audience.
func (i *issuer) verifier(tb testing.TB) *token.Verifier {
	tb.Helper()
	keys, err := token.ParseJWKS(i.jwks())
	if err != nil {
		tb.Fatal(err)
	}
	v, err := token.NewVerifier(keys, token.WithIssuer(testIssuer), token.WithAudience(testAudience))
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// sign issues a token for sub with extra claims, valid for an hour.
func (i *issuer) sign(tb testing.TB, sub string, extra map[string]any) string {
	tb.Helper()
	claims := jwt.MapClaims{
		"iss": testIssuer, "aud": testAudience, "sub": sub,
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	}
	for k, v := range extra {
		claims[k] = v
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	t.Header["kid"] = i.kid
	raw, err := t.SignedString(i.key)
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}
