// Package bootstrap gives a new workload instance its first certificate: it
// redeems a one-time join token at the CA, trusting the CA only through the
// root fingerprint the operator handed over with the token, and writes the
// key (0600), certificate chain and trust bundle to disk. From then on the
// instance renews over mTLS (pkg renewal).
package bootstrap

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caclient"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// ErrBundleMismatch means the CA returned a trust bundle that does not hold
// the pinned root, or a certificate that does not chain to it.
var ErrBundleMismatch = errors.New("bootstrap: CA response does not match the pinned root")

// Config describes one bootstrap.
type Config struct {
	// CAURL is the CA's base URL, https://host:port.
	CAURL string
	// Token is the join token secret.
	Token string
	// Fingerprint is the SHA-256 fingerprint of the CA root, in any form
	// x509bundle.ParseFingerprint accepts (what --fingerprint takes).
	Fingerprint string
	// Files is where key, chain and bundle are written.
	Files tlsconfig.Files
	// Hosts optionally narrows the DNS names/IPs requested; the token decides
	// what may be granted.
	Hosts []string
	// KeyAlgorithm of the new key; zero means ECDSA P-256.
	KeyAlgorithm keyfile.Algorithm
}

// Run performs the bootstrap and returns the new identity and bundle, ready
// for tlsconfig.NewSource.
func Run(ctx context.Context, cfg Config) (*x509svid.SVID, *x509bundle.Bundle, error) {
	fp, err := x509bundle.ParseFingerprint(cfg.Fingerprint)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Token == "" || cfg.Files.Cert == "" || cfg.Files.Key == "" || cfg.Files.Bundle == "" {
		return nil, nil, errors.New("bootstrap: token and cert, key and bundle paths are required")
	}
	dns, ips, err := ca.ParseHosts(cfg.Hosts)
	if err != nil {
		return nil, nil, fmt.Errorf("bootstrap: %w", err)
	}
	key, err := keyfile.Generate(cfg.KeyAlgorithm)
	if err != nil {
		return nil, nil, fmt.Errorf("bootstrap: %w", err)
	}
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "verdict-bootstrap"}, DNSNames: dns, IPAddresses: ips,
	}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("bootstrap: CSR: %w", err)
	}
	client, err := caclient.New(cfg.CAURL, caclient.WithFingerprint(fp))
	if err != nil {
		return nil, nil, err
	}
	got, err := client.Join(ctx, cfg.Token, csr)
	if err != nil {
		return nil, nil, err
	}
	if got.Bundle == nil {
		return nil, nil, fmt.Errorf("%w: no trust bundle returned", ErrBundleMismatch)
	}
	if _, ok := fp.Find(got.Bundle.Certificates()); !ok {
		return nil, nil, fmt.Errorf("%w: bundle lacks root %s", ErrBundleMismatch, fp)
	}
	inter := x509.NewCertPool()
	for _, c := range got.Chain[1:] {
		inter.AddCert(c)
	}
	if _, err := got.Chain[0].Verify(x509.VerifyOptions{Roots: got.Bundle.Pool(), Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBundleMismatch, err)
	}
	svid, err := x509svid.New(got.Chain, key)
	if err != nil {
		return nil, nil, fmt.Errorf("bootstrap: %w", err)
	}
	for _, p := range []string{cfg.Files.Cert, cfg.Files.Key, cfg.Files.Bundle} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, nil, fmt.Errorf("bootstrap: %w", err)
		}
	}
	if err := svid.WriteFiles(cfg.Files.Cert, cfg.Files.Key); err != nil {
		return nil, nil, err
	}
	if err := got.Bundle.WriteFile(cfg.Files.Bundle); err != nil {
		return nil, nil, err
	}
	return svid, got.Bundle, nil
}
