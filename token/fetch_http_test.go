package token

import (
	"context"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPFetcherURLRules(t *testing.T) {
	for _, u := range []string{
		"http://issuer.example/jwks", // plaintext, remote
		"ftp://issuer.example/jwks",  // not http
		"https:///jwks",              // no host
		"://bad",                     // unparsable
	} {
		if _, err := NewHTTPFetcher(u, nil); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: got %v, want ErrConfig", u, err)
		}
	}
	// Plaintext needs the explicit option, and then a loopback host.
	if _, err := NewHTTPFetcher("http://127.0.0.1:1/jwks", nil); !errors.Is(err, ErrConfig) {
		t.Errorf("loopback plaintext without opt-in: %v", err)
	}
	for _, u := range []string{"http://10.0.0.1/jwks", "http://localhost.evil.example/jwks", "http://127.0.0.1.nip.io/jwks"} {
		if _, err := NewHTTPFetcher(u, nil, AllowLoopbackPlaintext()); !errors.Is(err, ErrConfig) {
			t.Errorf("%s with opt-in: got %v, want ErrConfig", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080/jwks", "http://[::1]/jwks", "http://localhost/jwks", "https://issuer.example/jwks"} {
		if _, err := NewHTTPFetcher(u, nil, AllowLoopbackPlaintext()); err != nil {
			t.Errorf("%s with opt-in: %v", u, err)
		}
	}
	if _, err := NewHTTPFetcher("https://issuer.example", nil, WithHTTPTimeout(0)); !errors.Is(err, ErrConfig) {
		t.Errorf("zero timeout: %v", err)
	}
}

func TestHTTPFetcherLoopbackPlaintext(t *testing.T) {
	k := newECTestKey(t, "k", "ES256", elliptic.P256())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(jwksJSON(t, k.jwk))
	}))
	defer srv.Close()
	f, err := NewHTTPFetcher(srv.URL, nil, AllowLoopbackPlaintext())
	if err != nil {
		t.Fatal(err)
	}
	data, err := f.Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseJWKS(data); err != nil {
		t.Fatal(err)
	}
	// "localhost" resolves to loopback and passes the dial check.
	local, err := NewHTTPFetcher(strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), nil, AllowLoopbackPlaintext())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := local.Fetch(context.Background()); err != nil {
		t.Fatalf("localhost: %v", err)
	}
}

func TestHTTPFetcherRefusesDowngradeAndBadServers(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"keys":[]}`)) }))
	defer plain.Close()
	redirect := newJWKSServer(t, nil)
	redirect.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(plain.URL, "127.0.0.1", "issuer.example", 1), http.StatusFound)
	})
	f, err := NewHTTPFetcher(redirect.URL, redirect.tlsConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Fetch(context.Background()); err == nil || !strings.Contains(err.Error(), "plaintext") {
		t.Errorf("https to http redirect followed: %v", err)
	}

	// A certificate the configured roots do not vouch for fails, and nil
	// means the system roots, which do not know the test CA.
	other := newJWKSServer(t, []byte(`{"keys":[]}`))
	for _, cfg := range []*tls.Config{{RootCAs: x509.NewCertPool()}, nil} {
		f, err = NewHTTPFetcher(other.URL, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Fetch(context.Background()); err == nil {
			t.Error("untrusted certificate accepted")
		}
	}

	// Oversized bodies are refused.
	huge := newJWKSServer(t, []byte(strings.Repeat(" ", MaxKeySetSize+1)))
	f, err = NewHTTPFetcher(huge.URL, huge.tlsConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Fetch(context.Background()); err == nil {
		t.Error("oversized key set accepted")
	}
}
