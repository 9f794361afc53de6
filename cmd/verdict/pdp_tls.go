package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/pdp/server"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// pdpTLSConfig is the tls: section of contract 2, extended with reloading
// and revocation.
type pdpTLSConfig struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// ClientCA makes clients present a certificate chaining to it.
	ClientCA string `yaml:"client_ca"`
	// Reload is how often cert, key and client_ca are checked for changes
	// (default 5s): a renewed certificate or a new CA is served without a
	// restart. It needs client_ca.
	Reload time.Duration `yaml:"reload"`
	// Revocation cuts revoked clients off (it needs client_ca).
	Revocation *pdpRevocationConfig `yaml:"revocation"`
}

// pdpRevocationConfig is tls.revocation: where revocations come from.
// Clients whose certificate is revoked are refused at the handshake, and
// their open connections are closed as soon as an event arrives.
type pdpRevocationConfig struct {
	// NATS receives the CA's revocation events (nats:// or tls://; with
	// tls:// the PDP presents its own certificate and trusts client_ca).
	NATS string `yaml:"nats"`
	// Subject of the events (default verdict.revocation).
	Subject string `yaml:"subject"`
	// NATSServer is the spiffe:// identity the NATS server must present
	// over tls:// (default: any service of the PDP's trust domain, or the
	// URL's host name when the PDP's certificate has no spiffe:// identity).
	NATSServer string `yaml:"nats_server"`
	// CRLURL is the CA's CRL, fetched at start and every CRLRefresh
	// (default 5m), for revocations published while the PDP was away.
	CRLURL     string        `yaml:"crl_url"`
	CRLRefresh time.Duration `yaml:"crl_refresh"`
	// CRLIssuer is the certificate that signs the CRL (default the first
	// certificate of client_ca).
	CRLIssuer string `yaml:"crl_issuer"`
}

// defaultTLSReload is how often pdp serve checks its certificate files.
const defaultTLSReload = 5 * time.Second

func (c *pdpTLSConfig) check() error {
	switch {
	case c.Cert == "" || c.Key == "":
		return errors.New("tls: cert and key are required")
	case c.Reload < 0:
		return errors.New("tls.reload: must be positive")
	case c.Revocation == nil:
		return nil
	case c.ClientCA == "":
		return errors.New("tls.revocation: needs tls.client_ca (without client certificates there is nothing to revoke)")
	case c.Revocation.NATS == "" && c.Revocation.CRLURL == "":
		return errors.New("tls.revocation: give nats, crl_url or both")
	case c.Revocation.CRLRefresh < 0:
		return errors.New("tls.revocation.crl_refresh: must be positive")
	}
	return nil
}

// serverTLS builds the server's TLS options: with client_ca, a
// configuration that follows the files on disk (tlsconfig.Watch) and, with
// tls.revocation, refuses and disconnects revoked clients; without it, the
// static server-only TLS contract 2 always allowed.
func (p *runningPDP) serverTLS(ctx context.Context, c *pdpTLSConfig, logger *slog.Logger) ([]server.Option, error) {
	if c.ClientCA == "" {
		cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
		if err != nil {
			return nil, err
		}
		return []server.Option{server.WithTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})}, nil
	}
	files := tlsconfig.Files{Cert: c.Cert, Key: c.Key, Bundle: c.ClientCA, Operator: true}
	src, err := tlsconfig.LoadFiles(files)
	if err != nil {
		return nil, err
	}
	every := c.Reload
	if every == 0 {
		every = defaultTLSReload
	}
	w, err := tlsconfig.Watch(ctx, src, files, tlsconfig.WithPollInterval(every), tlsconfig.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, w.Close)

	opts := []tlsconfig.Option{tlsconfig.WithLogger(logger)}
	var serverOpts []server.Option
	if c.Revocation != nil {
		set := revocation.NewSet()
		checkers := []revocation.Checker{set}
		if c.Revocation.NATS != "" {
			if err := p.subscribeRevocations(ctx, src, set, c.Revocation, logger); err != nil {
				return nil, fmt.Errorf("revocation.nats: %w", err)
			}
		}
		if c.Revocation.CRLURL != "" {
			crl, err := p.fetchCRL(ctx, src, c, logger)
			if err != nil {
				return nil, fmt.Errorf("revocation.crl_url: %w", err)
			}
			checkers = append(checkers, crl)
		}
		opts = append(opts, tlsconfig.WithRevocationChecker(revocation.Any(checkers...)))
		serverOpts = append(serverOpts, server.WithRevocation(set))
	}
	return append(serverOpts, server.WithTLS(tlsconfig.ServerConfig(src, opts...))), nil
}

// peerAuthorizer is what the PDP expects of the servers it calls (NATS, the
// CA): an explicit identity, else any service of its own trust domain, else
// (a PDP without a spiffe:// identity) the host name it dials.
func peerAuthorizer(src *tlsconfig.Source, explicit string) ([]tlsconfig.Option, error) {
	if explicit != "" {
		id, err := spiffeid.Parse(explicit)
		if err != nil {
			return nil, fmt.Errorf("nats_server %q: %w", explicit, err)
		}
		return []tlsconfig.Option{tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(id))}, nil
	}
	if own := src.SVID().ID; !own.IsZero() {
		return []tlsconfig.Option{tlsconfig.WithAuthorizer(tlsconfig.AuthorizeMemberOf(own.TrustDomain()))}, nil
	}
	return nil, nil
}

// subscribeRevocations connects to NATS (over mTLS for tls:// URLs, with a
// connection that is itself dropped if the NATS server's certificate is
// revoked) and feeds set from the CA's events.
func (p *runningPDP) subscribeRevocations(ctx context.Context, src *tlsconfig.Source, set *revocation.Set, rc *pdpRevocationConfig, logger *slog.Logger) error {
	natsOpts := []nats.Option{nats.Name("verdict-pdp-revocation"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true)}
	secure := strings.HasPrefix(rc.NATS, "tls://")
	if secure {
		auth, err := peerAuthorizer(src, rc.NATSServer)
		if err != nil {
			return err
		}
		cfg := tlsconfig.ClientConfig(src, append(auth, tlsconfig.WithLogger(logger), tlsconfig.WithRevocationChecker(set))...)
		natsOpts = append(natsOpts, nats.Secure(cfg))
	}
	nc, err := nats.Connect(rc.NATS, natsOpts...)
	if err != nil {
		return err
	}
	p.closers = append(p.closers, func() error { nc.Close(); return nil })
	if secure {
		stop := revocation.WatchConn(nc, set, logger)
		p.closers = append(p.closers, func() error { stop(); return nil })
	}
	sub, err := revocation.Subscribe(ctx, nc, set, revocation.WithSubject(rc.Subject), revocation.WithNATSLogger(logger))
	if err != nil {
		return err
	}
	p.closers = append(p.closers, sub.Close)
	logger.Info("revocation: following events", "nats", nc.ConnectedUrlRedacted(), "subject", subjectOr(rc.Subject))
	return nil
}

func subjectOr(s string) string {
	if s == "" {
		return revocation.Subject
	}
	return s
}

// fetchCRL loads the CRL once (failing the start when it cannot) and keeps
// refreshing it.
func (p *runningPDP) fetchCRL(ctx context.Context, src *tlsconfig.Source, c *pdpTLSConfig, logger *slog.Logger) (*revocation.CRL, error) {
	rc := c.Revocation
	issuerFile := rc.CRLIssuer
	if issuerFile == "" {
		issuerFile = c.ClientCA
	}
	pemData, err := os.ReadFile(issuerFile)
	if err != nil {
		return nil, err
	}
	certs, err := x509svid.ParseCertificates(pemData)
	if err != nil {
		return nil, fmt.Errorf("crl_issuer %s: %w", issuerFile, err)
	}
	crlOpts := []revocation.CRLOption{revocation.WithCRLLogger(logger)}
	if rc.CRLRefresh > 0 {
		crlOpts = append(crlOpts, revocation.WithRefresh(rc.CRLRefresh))
	}
	if strings.HasPrefix(rc.CRLURL, "https://") {
		auth, err := peerAuthorizer(src, "")
		if err != nil {
			return nil, err
		}
		crlOpts = append(crlOpts, revocation.WithHTTPClient(tlsconfig.HTTPClient(src, append(auth, tlsconfig.WithLogger(logger))...)))
	}
	crl, err := revocation.NewCRL(ctx, rc.CRLURL, certs[0], crlOpts...)
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, crl.Close)
	return crl, nil
}
