package token

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// DefaultHTTPTimeout bounds one JWKS fetch.
const DefaultHTTPTimeout = 10 * time.Second

// maxRedirects bounds the redirects a JWKS fetch follows; each hop must
// satisfy the same scheme rules as the original URL.
const maxRedirects = 3

type httpConfig struct {
	loopbackPlaintext bool
	timeout           time.Duration
}

// HTTPFetcher fetches a JWKS over HTTPS (or, when explicitly allowed, plain
// HTTP to a loopback address).
type HTTPFetcher struct {
	url    string
	client *http.Client
}

// NewHTTPFetcher returns a Fetcher for rawURL. tlsConfig sets the trusted
// roots (and client certificate, if the issuer wants one); nil means the
// system roots. The URL must be https, or http with AllowLoopbackPlaintext
// and a loopback host; this is checked on the URL, on every redirect and on
// every connection actually made.
func NewHTTPFetcher(rawURL string, tlsConfig *tls.Config, opts ...HTTPOption) (*HTTPFetcher, error) {
	cfg := httpConfig{timeout: DefaultHTTPTimeout}
	for _, o := range opts {
		o.applyHTTP(&cfg)
	}
	if cfg.timeout <= 0 {
		return nil, fmt.Errorf("%w: HTTP timeout must be positive", ErrConfig)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: JWKS URL: %v", ErrConfig, err)
	}
	if err := cfg.checkURL(u); err != nil {
		return nil, err
	}
	if tlsConfig == nil {
		tlsConfig = &tls.Config{}
	} else {
		tlsConfig = tlsConfig.Clone()
	}
	if tlsConfig.MinVersion < tls.VersionTLS12 {
		tlsConfig.MinVersion = tls.VersionTLS12
	}
	dialer := &net.Dialer{Timeout: cfg.timeout}
	transport := &http.Transport{
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: cfg.timeout,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        2,
		IdleConnTimeout:     90 * time.Second,
	}
	if u.Scheme == "http" {
		// Plaintext must never leave the host: no proxy, and every dialled
		// address is checked after name resolution.
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("refusing plaintext connection to non-loopback address %s", address)
			}
			return nil
		}
	} else {
		transport.Proxy = http.ProxyFromEnvironment
	}
	transport.DialContext = dialer.DialContext
	client := &http.Client{
		Transport: transport,
		Timeout:   cfg.timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			return cfg.checkURL(req.URL)
		},
	}
	return &HTTPFetcher{url: u.String(), client: client}, nil
}

// checkURL enforces https, or plaintext to loopback when allowed.
func (c httpConfig) checkURL(u *url.URL) error {
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return fmt.Errorf("%w: JWKS URL has no host", ErrConfig)
		}
		return nil
	case "http":
		if !c.loopbackPlaintext {
			return fmt.Errorf("%w: JWKS URL %s is plaintext http; use https (http is allowed only for loopback with AllowLoopbackPlaintext)", ErrConfig, u.Redacted())
		}
		if !isLoopbackHost(u.Hostname()) {
			return fmt.Errorf("%w: plaintext JWKS URL %s is not on a loopback address", ErrConfig, u.Redacted())
		}
		return nil
	}
	return fmt.Errorf("%w: JWKS URL scheme %q is not https", ErrConfig, u.Scheme)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL returns the URL fetched.
func (f *HTTPFetcher) URL() string { return f.url }

// Fetch GETs the JWKS. Anything but 200 is an error; the body is bounded.
func (f *HTTPFetcher) Fetch(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("GET %s: %w", f.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %s", f.url, resp.Status)
	}
	return readLimited(resp.Body, "GET "+f.url)
}
