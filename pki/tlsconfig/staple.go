package tlsconfig

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OCSPFetcher obtains a DER OCSP response for leaf, issued by issuer.
type OCSPFetcher interface {
	FetchOCSP(ctx context.Context, leaf, issuer *x509.Certificate) ([]byte, error)
}

// HTTPFetcher fetches OCSP responses by POST from url, or from the leaf's
// first OCSP server when url is empty.
func HTTPFetcher(client *http.Client, url string) OCSPFetcher {
	if client == nil {
		client = http.DefaultClient
	}
	return httpFetcher{client: client, url: url}
}

type httpFetcher struct {
	client *http.Client
	url    string
}

func (f httpFetcher) FetchOCSP(ctx context.Context, leaf, issuer *x509.Certificate) ([]byte, error) {
	url := f.url
	if url == "" {
		if len(leaf.OCSPServer) == 0 {
			return nil, errors.New("certificate names no OCSP server")
		}
		url = leaf.OCSPServer[0]
	}
	reqDER, err := ocsp.CreateRequest(leaf, issuer, &ocsp.RequestOptions{})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(reqDER))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("OCSP %s: HTTP %d", url, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// Stapler keeps an OCSP response stapled to the Source's certificate,
// refreshing it at half its validity and whenever the certificate changes,
// so that clients learn the server's status without asking the CA.
type Stapler struct {
	src    *Source
	fetch  OCSPFetcher
	cfg    config
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

// retryAfter is the wait after a failed fetch.
const retryAfter = 10 * time.Second

// NewStapler makes one stapling attempt (a failure is logged, not fatal: a
// server without a staple still works) and keeps refreshing until Close.
func NewStapler(ctx context.Context, src *Source, f OCSPFetcher, opts ...Option) *Stapler {
	s := &Stapler{src: src, fetch: f, cfg: newConfig(opts), done: make(chan struct{})}
	next := s.refresh(ctx)
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	go s.loop(bg, next)
	return s
}

func (s *Stapler) loop(ctx context.Context, next time.Time) {
	defer close(s.done)
	for {
		changed := s.src.Changed()
		t := time.NewTimer(max(next.Sub(s.cfg.now()), 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-changed:
			t.Stop()
		case <-t.C:
		}
		next = s.refresh(ctx)
	}
}

// refresh staples a fresh response and returns when to refresh next.
func (s *Stapler) refresh(ctx context.Context) time.Time {
	now := s.cfg.now()
	svid := s.src.SVID()
	leaf := svid.Leaf()
	issuer := issuerOf(leaf, svid.Certificates[1:], s.src.Bundle().Certificates())
	if issuer == nil {
		s.cfg.logger.WarnContext(ctx, "tls: OCSP stapling: issuer of our certificate not found")
		return now.Add(retryAfter)
	}
	der, err := s.fetch.FetchOCSP(ctx, leaf, issuer)
	if err == nil {
		var resp *ocsp.Response
		if resp, err = ocsp.ParseResponseForCert(der, leaf, issuer); err == nil {
			if resp.Status == ocsp.Unknown {
				err = errors.New("responder does not know our certificate")
			} else {
				s.src.SetOCSPStaple(leaf.SerialNumber, der)
				if resp.Status == ocsp.Revoked {
					s.cfg.logger.ErrorContext(ctx, "tls: our certificate is revoked", "serial", fmt.Sprintf("%x", leaf.SerialNumber))
				}
				half := resp.NextUpdate.Sub(resp.ThisUpdate) / 2
				return resp.ThisUpdate.Add(max(half, time.Second))
			}
		}
	}
	if ctx.Err() == nil {
		s.cfg.logger.WarnContext(ctx, "tls: OCSP stapling failed", "serial", fmt.Sprintf("%x", leaf.SerialNumber), "error", err)
	}
	return now.Add(retryAfter)
}

// issuerOf finds the certificate that signed leaf among the chain and roots.
func issuerOf(leaf *x509.Certificate, candidates ...[]*x509.Certificate) *x509.Certificate {
	for _, set := range candidates {
		for _, c := range set {
			if leaf.CheckSignatureFrom(c) == nil {
				return c
			}
		}
	}
	return nil
}

// Close stops refreshing; it is idempotent.
func (s *Stapler) Close() error {
	s.once.Do(func() {
		s.cancel()
		<-s.done
	})
	return nil
}
