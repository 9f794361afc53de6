package tlsconfig

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// Files names the PEM files a workload's identity lives in: what bootstrap
// writes and what config files (tls.cert, tls.key, tls.client_ca) point to.
type Files struct {
	Cert   string
	Key    string
	Bundle string
	// Operator marks files of an operator's own PKI (pdp serve's tls:
	// section accepts any certificate and key tls.LoadX509KeyPair does):
	// the certificate need not carry a spiffe:// identity (the SVID's ID
	// is then zero) and the key file's mode is not checked. Files the
	// Verdict CA wrote keep both checks.
	Operator bool
}

// LoadFiles reads the files into a new Source.
func LoadFiles(f Files) (*Source, error) {
	svid, bundle, err := f.load()
	if err != nil {
		return nil, err
	}
	return NewSource(svid, bundle)
}

func (f Files) load() (*x509svid.SVID, *x509bundle.Bundle, error) {
	load := x509svid.Load
	if f.Operator {
		load = loadOperatorPair
	}
	svid, err := load(f.Cert, f.Key)
	if err != nil {
		return nil, nil, err
	}
	bundle, err := x509bundle.Load(f.Bundle)
	if err != nil {
		return nil, nil, err
	}
	return svid, bundle, nil
}

func (f Files) read() ([]byte, error) {
	var all []byte
	for _, p := range []string{f.Cert, f.Key, f.Bundle} {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		all = append(append(all, b...), 0)
	}
	return all, nil
}

// Watcher reloads a Source from Files when their content changes, for
// workloads whose certificate is renewed by another process.
type Watcher struct {
	src    *Source
	files  Files
	every  time.Duration
	logger *slog.Logger
	mu     sync.Mutex // guards last
	last   []byte
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// Watch starts polling files (every 5s, or WithPollInterval) and swapping
// src when they change to a valid, consistent set. A set that does not load
// (a writer caught mid-way, a key not matching the certificate) is logged
// and retried at the next poll; the previous material stays in use. Among
// opts, WithPollInterval and WithLogger apply.
func Watch(ctx context.Context, src *Source, files Files, opts ...Option) (*Watcher, error) {
	cfg := newConfig(opts)
	interval, l := cfg.pollInterval, cfg.logger
	if interval <= 0 {
		interval = 5 * time.Second
	}
	cur, err := files.read()
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: watch: %w", err)
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &Watcher{src: src, files: files, every: interval, logger: l, last: cur, cancel: cancel, done: make(chan struct{})}
	go w.loop(bg)
	return w, nil
}

func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	t := time.NewTicker(w.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.Check(ctx)
	}
}

// Check reloads now if the files changed; Watch calls it on every tick.
func (w *Watcher) Check(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	cur, err := w.files.read()
	if err != nil {
		w.logger.WarnContext(ctx, "tls: reading certificate files failed", "cert", w.files.Cert, "error", err)
		return
	}
	if bytes.Equal(cur, w.last) {
		return
	}
	svid, bundle, err := w.files.load()
	if err != nil {
		w.logger.WarnContext(ctx, "tls: certificate files changed but do not load; keeping the current ones", "cert", w.files.Cert, "error", err)
		return
	}
	w.last = cur
	w.src.Set(svid, bundle)
	w.logger.InfoContext(ctx, "tls: reloaded certificate", "id", svid.ID.String(),
		"serial", fmt.Sprintf("%x", svid.Leaf().SerialNumber), "not_after", svid.Leaf().NotAfter)
}

// Close stops watching; it is idempotent.
func (w *Watcher) Close() error {
	w.once.Do(func() {
		w.cancel()
		<-w.done
	})
	return nil
}

// loadOperatorPair reads a certificate chain and key as
// tls.LoadX509KeyPair does, keeping the spiffe:// identity when there is
// one.
func loadOperatorPair(certFile, keyFile string) (*x509svid.SVID, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: %w", err)
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("tlsconfig: %s: private key of type %T cannot sign", keyFile, pair.PrivateKey)
	}
	chain := make([]*x509.Certificate, 0, len(pair.Certificate))
	for _, der := range pair.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("tlsconfig: %s: %w", certFile, err)
		}
		chain = append(chain, c)
	}
	if svid, err := x509svid.New(chain, key); err == nil {
		return svid, nil
	}
	return &x509svid.SVID{Certificates: chain, PrivateKey: key}, nil
}
