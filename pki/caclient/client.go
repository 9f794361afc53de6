// Package caclient talks to the CA's REST API (pki/caserver): joining with a
// token while pinning the root by fingerprint, renewing over mTLS, and the
// administrative calls (sign, newcert, revoke, join tokens) that `verdict
// ca` will expose.
package caclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"

	"github.com/verdict-authz/verdict/pki/caapi"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// Errors. API errors are *APIError values that match these with errors.Is.
var (
	// ErrFingerprintMismatch means the server's chain does not contain the
	// pinned root; the connection is refused before any data is sent.
	ErrFingerprintMismatch = errors.New("caclient: CA root does not match the pinned fingerprint")
	// ErrNoTrust means the client has neither a Source, a bundle nor a pin.
	ErrNoTrust = errors.New("caclient: no way to authenticate the CA (need WithSource, WithBundle or WithFingerprint)")
	// ErrInvalidToken means the join token is unknown, expired or used.
	ErrInvalidToken = errors.New("caclient: invalid join token")
	// ErrUnauthenticated means the call needs a client certificate.
	ErrUnauthenticated = errors.New("caclient: not authenticated")
	// ErrForbidden means the CA refused the caller.
	ErrForbidden = errors.New("caclient: forbidden")
	// ErrBadRequest means the CA refused the request's content.
	ErrBadRequest = errors.New("caclient: bad request")
	// ErrNotFound means the serial is unknown.
	ErrNotFound = errors.New("caclient: not found")
	// ErrConflict means the certificate is already revoked.
	ErrConflict = errors.New("caclient: conflict")
	// ErrUnavailable means the CA is shutting down or failing.
	ErrUnavailable = errors.New("caclient: CA unavailable")
)

// APIError is a failed API call.
type APIError struct {
	Path     string
	Status   int
	Messages []caapi.Message
}

// Error joins the CA's messages with the path and status.
func (e *APIError) Error() string {
	msgs := make([]string, 0, len(e.Messages))
	for _, m := range e.Messages {
		msgs = append(msgs, m.Message)
	}
	return fmt.Sprintf("caclient: %s: HTTP %d: %s", e.Path, e.Status, strings.Join(msgs, "; "))
}

// Is maps the status to the package's sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrInvalidToken:
		return e.Status == http.StatusUnauthorized && e.Path == caapi.PathJoin
	case ErrUnauthenticated:
		return e.Status == http.StatusUnauthorized && e.Path != caapi.PathJoin
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrBadRequest:
		return e.Status == http.StatusBadRequest
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrUnavailable:
		return e.Status >= 500
	}
	return false
}

// Client calls one CA.
type Client struct {
	base *url.URL
	http *http.Client
}

// New returns a client for the CA at baseURL (https://host:port). It needs
// one way to authenticate the CA: WithSource (mTLS with the workload's
// certificate), WithBundle (server-only TLS) or WithFingerprint (bootstrap).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("caclient: CA URL must be https://host[:port], got %q", baseURL)
	}
	cfg := config{logger: slog.Default()}
	for _, o := range opts {
		o.apply(&cfg)
	}
	c := &Client{base: u}
	switch {
	case cfg.http != nil:
		c.http = cfg.http
	case cfg.src != nil:
		td := cfg.src.SVID().ID.TrustDomain()
		caID, err := spiffeid.New(td, caapi.ServiceName)
		if err != nil {
			return nil, fmt.Errorf("caclient: %w", err)
		}
		c.http = tlsconfig.HTTPClient(cfg.src, append([]tlsconfig.Option{
			tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(caID)), tlsconfig.WithLogger(cfg.logger),
		}, cfg.tlsOptions...)...)
	case cfg.bundle != nil:
		c.http = &http.Client{Transport: &http.Transport{TLSClientConfig: bundleTLS(cfg.bundle), ForceAttemptHTTP2: true}}
	case cfg.pinned:
		c.http = &http.Client{Transport: &http.Transport{TLSClientConfig: pinnedTLS(cfg.fingerprint), ForceAttemptHTTP2: true}}
	default:
		return nil, ErrNoTrust
	}
	return c, nil
}

// pinnedTLS trusts the server only if its chain contains the pinned root and
// the leaf chains to it with serverAuth and carries the CA's identity.
func pinnedTLS(fp x509bundle.Fingerprint) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // replaced by the fingerprint check below
		VerifyConnection: func(cs tls.ConnectionState) error {
			root, ok := fp.Find(cs.PeerCertificates)
			if !ok || !root.IsCA {
				return fmt.Errorf("%w: want %s", ErrFingerprintMismatch, fp)
			}
			b, err := x509bundle.New(root)
			if err != nil {
				return fmt.Errorf("%w: %w", ErrFingerprintMismatch, err)
			}
			return verifyCA(cs, b)
		},
	}
}

// bundleTLS trusts a CA server chaining to bundle and carrying the CA identity.
func bundleTLS(b *x509bundle.Bundle) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // replaced by verifyCA
		VerifyConnection:   func(cs tls.ConnectionState) error { return verifyCA(cs, b) },
	}
}

func verifyCA(cs tls.ConnectionState, b *x509bundle.Bundle) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("caclient: CA presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	leaf := cs.PeerCertificates[0]
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: b.Pool(), Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return fmt.Errorf("caclient: CA certificate: %w", err)
	}
	id, err := spiffeid.FromCertificate(leaf)
	if err != nil || id.Service() != caapi.ServiceName {
		return fmt.Errorf("caclient: server is %q, not the CA", id)
	}
	return nil
}

// call posts (or gets, when in is nil and method is GET) JSON and decodes
// the envelope's result into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("caclient: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.JoinPath(path).String(), body)
	if err != nil {
		return fmt.Errorf("caclient: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("caclient: %s: %w", path, err)
	}
	defer resp.Body.Close()
	var env caapi.Response
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&env); err != nil {
		return fmt.Errorf("caclient: %s: HTTP %d: undecodable response: %w", path, resp.StatusCode, err)
	}
	if !env.Success || resp.StatusCode != http.StatusOK {
		return &APIError{Path: path, Status: resp.StatusCode, Messages: env.Errors}
	}
	if out != nil {
		if err := json.Unmarshal(env.Result, out); err != nil {
			return fmt.Errorf("caclient: %s: result: %w", path, err)
		}
	}
	return nil
}

// Certificate is an issued certificate as the client receives it.
type Certificate struct {
	ID      spiffeid.ID
	Profile string
	// Chain is the leaf followed by intermediates.
	Chain  []*x509.Certificate
	Bundle *x509bundle.Bundle
}

func parseCertificate(res caapi.Certificate) (*Certificate, error) {
	pemChain := res.Chain
	if pemChain == "" {
		pemChain = res.Certificate
	}
	chain, err := x509svid.ParseCertificates([]byte(pemChain))
	if err != nil {
		return nil, fmt.Errorf("caclient: %w", err)
	}
	out := &Certificate{Profile: res.Profile, Chain: chain}
	if out.ID, err = spiffeid.FromCertificate(chain[0]); err != nil {
		return nil, fmt.Errorf("caclient: %w", err)
	}
	if res.TrustBundle != "" {
		if out.Bundle, err = x509bundle.Parse([]byte(res.TrustBundle)); err != nil {
			return nil, fmt.Errorf("caclient: %w", err)
		}
	}
	return out, nil
}

// EncodeCSR turns a DER CSR into the PEM the API expects.
func EncodeCSR(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// Join redeems a join token for the first certificate.
func (c *Client) Join(ctx context.Context, token string, csrDER []byte) (*Certificate, error) {
	var res caapi.Certificate
	if err := c.call(ctx, http.MethodPost, caapi.PathJoin, caapi.JoinRequest{Token: token, CertificateRequest: EncodeCSR(csrDER)}, &res); err != nil {
		return nil, err
	}
	return parseCertificate(res)
}

// Renew implements renewal.Issuer: it asks for a successor of the
// certificate the client authenticates with.
func (c *Client) Renew(ctx context.Context, csrDER []byte) ([]*x509.Certificate, *x509bundle.Bundle, error) {
	var res caapi.Certificate
	if err := c.call(ctx, http.MethodPost, caapi.PathRenew, caapi.RenewRequest{CertificateRequest: EncodeCSR(csrDER)}, &res); err != nil {
		return nil, nil, err
	}
	cert, err := parseCertificate(res)
	if err != nil {
		return nil, nil, err
	}
	return cert.Chain, cert.Bundle, nil
}

// Sign asks the CA to sign a CSR (admin).
func (c *Client) Sign(ctx context.Context, req caapi.SignRequest) (*Certificate, error) {
	var res caapi.Certificate
	if err := c.call(ctx, http.MethodPost, caapi.PathSign, req, &res); err != nil {
		return nil, err
	}
	return parseCertificate(res)
}

// NewCert asks the CA to generate a key and certificate (admin).
func (c *Client) NewCert(ctx context.Context, req caapi.NewCertRequest) (*x509svid.SVID, *x509bundle.Bundle, error) {
	var res caapi.NewCertResult
	if err := c.call(ctx, http.MethodPost, caapi.PathNewCert, req, &res); err != nil {
		return nil, nil, err
	}
	cert, err := parseCertificate(res.Certificate)
	if err != nil {
		return nil, nil, err
	}
	svid, err := x509svid.Parse(x509svid.EncodeCertificates(cert.Chain), []byte(res.PrivateKey))
	if err != nil {
		return nil, nil, fmt.Errorf("caclient: %w", err)
	}
	return svid, cert.Bundle, nil
}

// Revoke revokes a certificate (admin). reason is a CFSSL reason name.
func (c *Client) Revoke(ctx context.Context, serial *big.Int, reason string) error {
	return c.call(ctx, http.MethodPost, caapi.PathRevoke, caapi.RevokeRequest{Serial: serial.String(), Reason: reason}, nil)
}

// CreateJoinToken creates a one-time join token (admin).
func (c *Client) CreateJoinToken(ctx context.Context, req caapi.JoinTokenRequest) (caapi.JoinTokenResult, error) {
	var res caapi.JoinTokenResult
	err := c.call(ctx, http.MethodPost, caapi.PathJoinToken, req, &res)
	return res, err
}

// Info returns the CA's description.
func (c *Client) Info(ctx context.Context) (*caapi.InfoResult, error) {
	var res caapi.InfoResult
	if err := c.call(ctx, http.MethodPost, caapi.PathInfo, caapi.InfoRequest{}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// CRL returns the current DER CRL through the JSON API.
func (c *Client) CRL(ctx context.Context) ([]byte, error) {
	var res string
	if err := c.call(ctx, http.MethodGet, caapi.PathCRL, nil, &res); err != nil {
		return nil, err
	}
	der, err := base64.StdEncoding.DecodeString(res)
	if err != nil {
		return nil, fmt.Errorf("caclient: CRL: %w", err)
	}
	return der, nil
}

// OCSPSign asks the CA for a signed OCSP response for cert (admin).
func (c *Client) OCSPSign(ctx context.Context, cert *x509.Certificate) ([]byte, error) {
	var res caapi.OCSPSignResult
	if err := c.call(ctx, http.MethodPost, caapi.PathOCSPSign,
		caapi.OCSPSignRequest{Certificate: string(x509svid.EncodeCertificates([]*x509.Certificate{cert}))}, &res); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(res.OCSPResponse)
}

// HTTPClient returns the underlying HTTP client (for /ocsp and /crl).
func (c *Client) HTTPClient() *http.Client { return c.http }

// URL returns the CA's base URL.
func (c *Client) URL() string { return c.base.String() }

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	src         *tlsconfig.Source
	bundle      *x509bundle.Bundle
	fingerprint x509bundle.Fingerprint
	pinned      bool
	http        *http.Client
	logger      *slog.Logger
	tlsOptions  []tlsconfig.Option
}

// WithSource authenticates with the workload's certificate (mTLS) and
// trusts the CA through the source's bundle. It is required for renew and
// the administrative calls.
func WithSource(src *tlsconfig.Source, opts ...tlsconfig.Option) Option {
	return optionFunc(func(c *config) { c.src, c.tlsOptions = src, opts })
}

// WithBundle trusts the CA through bundle, without a client certificate.
func WithBundle(b *x509bundle.Bundle) Option { return optionFunc(func(c *config) { c.bundle = b }) }

// WithFingerprint trusts the CA only if its presented chain contains the root
// with this SHA-256 fingerprint: how a new instance bootstraps trust.
func WithFingerprint(fp x509bundle.Fingerprint) Option {
	return optionFunc(func(c *config) { c.fingerprint, c.pinned = fp, true })
}

// WithHTTPClient uses h as is (tests, proxies).
func WithHTTPClient(h *http.Client) Option { return optionFunc(func(c *config) { c.http = h }) }

// WithLogger sets the logger of the mTLS client.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}
