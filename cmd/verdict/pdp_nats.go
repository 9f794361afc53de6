package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/pki/natsauth/inbox"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

// natsTLSConfig is the tls: section of bundle: and decision_log: — the
// client identity `pdp serve` presents to a tls:// NATS server such as the
// one `verdict up` runs (which requires a certificate of its trust domain
// and lets each service's PDP read only that service's bundles):
//
//	bundle:
//	  nats: tls://127.0.0.1:4222
//	  service: authzen-todo
//	  trusted_keys: trusted-keys.json
//	  tls: {cert: authzen-todo.pem, key: authzen-todo-key.pem, ca: root.pem}
//
// Without it, a tls:// URL uses the top-level tls: cert and key, trusting
// its client_ca (decision_log: first tries bundle.tls). The files are
// re-read every reload (default 5s), so a renewed certificate is used for
// the next (re)connection without a restart. The connection's inbox prefix
// is the one the certificate's service is allowed (natsauth.InboxPrefix).
type natsTLSConfig struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// CA is the trust bundle the NATS server's certificate must chain to.
	CA string `yaml:"ca"`
	// Server is the spiffe:// identity the NATS server must present
	// (default: any service of the PDP's trust domain, or the URL's host
	// name when the certificate has no spiffe:// identity).
	Server string `yaml:"nats_server"`
	// Reload is how often the files are checked for changes (default 5s).
	Reload time.Duration `yaml:"reload"`
}

func (c *natsTLSConfig) rel(rel func(*string)) {
	if c != nil {
		rel(&c.Cert)
		rel(&c.Key)
		rel(&c.CA)
	}
}

func (c *natsTLSConfig) check(section string) error {
	switch {
	case c == nil:
		return nil
	case c.Cert == "" || c.Key == "" || c.CA == "":
		return fmt.Errorf("%s.tls: cert, key and ca are required", section)
	case c.Reload < 0:
		return fmt.Errorf("%s.tls.reload: must be positive", section)
	}
	return nil
}

// natsClientTLS returns the TLS section a NATS client of section uses for
// url: nil for a plaintext nats:// URL, else own, then the fallbacks in
// order, then the top-level tls: (with client_ca as the trust bundle).
func (c *pdpConfig) natsClientTLS(section, url string, own *natsTLSConfig, fallbacks ...*natsTLSConfig) (*natsTLSConfig, error) {
	if !strings.HasPrefix(url, "tls://") {
		if own != nil {
			return nil, fmt.Errorf("%s.tls: given, but %s.nats %q is not a tls:// URL", section, section, url)
		}
		return nil, nil
	}
	for _, t := range append([]*natsTLSConfig{own}, fallbacks...) {
		if t != nil {
			return t, nil
		}
	}
	if t := c.TLS; t != nil && t.ClientCA != "" {
		return &natsTLSConfig{Cert: t.Cert, Key: t.Key, CA: t.ClientCA, Reload: t.Reload}, nil
	}
	return nil, fmt.Errorf("%s.nats: a tls:// server needs a client certificate: give %s.tls {cert, key, ca}, or a top-level tls: with client_ca", section, section)
}

// natsIdentities shares one reloading Source per set of files between the
// NATS connections of a PDP (bundles, decision log).
type natsIdentities struct {
	mu   sync.Mutex
	srcs map[tlsconfig.Files]*tlsconfig.Source
}

// natsOptions are the options of a NATS connection presenting tc's
// certificate: mutual TLS that follows the files on disk, the NATS
// server's expected identity, and the certificate's inbox prefix.
func (p *runningPDP) natsOptions(ctx context.Context, tc *natsTLSConfig, logger *slog.Logger) ([]nats.Option, *tlsconfig.Source, error) {
	if tc == nil {
		return nil, nil, nil
	}
	files := tlsconfig.Files{Cert: tc.Cert, Key: tc.Key, Bundle: tc.CA, Operator: true}
	p.nats.mu.Lock()
	defer p.nats.mu.Unlock()
	src := p.nats.srcs[files]
	if src == nil {
		var err error
		if src, err = tlsconfig.LoadFiles(files); err != nil {
			return nil, nil, err
		}
		every := tc.Reload
		if every == 0 {
			every = defaultTLSReload
		}
		w, err := tlsconfig.Watch(ctx, src, files, tlsconfig.WithPollInterval(every), tlsconfig.WithLogger(logger))
		if err != nil {
			return nil, nil, err
		}
		p.closers = append(p.closers, w.Close)
		if p.nats.srcs == nil {
			p.nats.srcs = map[tlsconfig.Files]*tlsconfig.Source{}
		}
		p.nats.srcs[files] = src
	}
	auth, err := peerAuthorizer(src, tc.Server)
	if err != nil {
		return nil, nil, err
	}
	opts := []nats.Option{nats.Secure(tlsconfig.ClientConfig(src, append(auth, tlsconfig.WithLogger(logger))...))}
	if prefix := inbox.ForID(src.SVID().ID); prefix != "" {
		opts = append(opts, nats.CustomInboxPrefix(prefix))
	}
	return opts, src, nil
}

// natsRefusals remembers the last permission violation a NATS server
// reported on a connection, to say why a wait for bundles failed.
type natsRefusals struct {
	mu   sync.Mutex
	last error
}

func (r *natsRefusals) handler(logger *slog.Logger) nats.ErrHandler {
	return func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if err == nil {
			return
		}
		if errors.Is(err, nats.ErrPermissionViolation) || strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
			r.mu.Lock()
			r.last = err
			r.mu.Unlock()
			logger.Error("nats: refused by the server", "err", err)
			return
		}
		logger.Warn("nats: asynchronous error", "err", err)
	}
}

func (r *natsRefusals) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}
