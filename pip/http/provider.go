package http

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/url"
	"sync"
	"time"

	"github.com/verdict-authz/verdict/pip"
)

// Provider fetches attributes from a service-owned HTTP endpoint. It is
// safe for concurrent use; Close releases its idle connections.
type Provider struct {
	endpoint  string
	redacted  string
	key       pip.AttributeRef
	cfg       config
	client    *nethttp.Client
	transport *nethttp.Transport
	closeOnce sync.Once
}

// request is the body of a fetch.
type request struct {
	Category   string   `json:"category"`
	Key        string   `json:"key"`
	Attributes []string `json:"attributes,omitempty"`
}

// New returns a provider for endpoint, whose entities are selected by the
// value of key. It refuses, with ErrInsecure, configurations that would
// send queries without verified TLS (see the package documentation).
func New(endpoint string, key pip.AttributeRef, opts ...Option) (*Provider, error) {
	if key.Category == "" || key.ID == "" {
		return nil, errors.New("pip/http: key attribute needs a category and an id")
	}
	cfg := config{maxBody: DefaultMaxResponseBytes, header: nethttp.Header{}, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.category == "" {
		cfg.category = key.Category
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("pip/http: endpoint: %w", err)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("pip/http: endpoint %q has no host", u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("pip/http: endpoint %q: credentials in the URL would end up in logs; use WithHeader", u.Redacted())
	}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	transport := &nethttp.Transport{
		Proxy:                 nil, // never a proxy from the environment
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	switch u.Scheme {
	case "https":
		if cfg.tls == nil {
			return nil, fmt.Errorf("pip/http: %w: https endpoint %s needs WithTLSConfig (the CA to trust)", ErrInsecure, u.Redacted())
		}
		tc := cfg.tls.Clone()
		if tc.InsecureSkipVerify && tc.VerifyConnection == nil && tc.VerifyPeerCertificate == nil {
			return nil, fmt.Errorf("pip/http: %w: InsecureSkipVerify without a verification callback", ErrInsecure)
		}
		if tc.MinVersion < tls.VersionTLS12 {
			tc.MinVersion = tls.VersionTLS12
		}
		transport.TLSClientConfig = tc
	case "http":
		if !cfg.plaintext {
			return nil, fmt.Errorf("pip/http: %w: plain http endpoint %s; use https, or WithInsecureLoopbackPlaintext for a loopback endpoint", ErrInsecure, u.Redacted())
		}
		if !isLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("pip/http: %w: plain http is allowed only to loopback, not %s", ErrInsecure, u.Hostname())
		}
		dialer.Control = loopbackOnly
	default:
		return nil, fmt.Errorf("pip/http: endpoint %q: scheme must be https (or http on loopback)", u.Redacted())
	}
	p := &Provider{
		endpoint:  u.String(),
		redacted:  u.Redacted(),
		key:       key,
		cfg:       cfg,
		transport: transport,
		client: &nethttp.Client{
			Transport: transport,
			CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error {
				return nethttp.ErrUseLastResponse
			},
		},
	}
	return p, nil
}

// Fetch asks the endpoint for the attributes of q.Key. The answer holds
// the attributes asked for (all of them when q.Attributes is empty).
func (p *Provider) Fetch(ctx context.Context, q pip.Query) (pip.Values, error) {
	if q.Category != p.cfg.category {
		return nil, fmt.Errorf("pip/http %s: %w: %q (serves %q)", p.redacted, pip.ErrWrongCategory, q.Category, p.cfg.category)
	}
	vals, err := p.fetch(ctx, q)
	if err != nil {
		p.cfg.logger.Debug("pip/http fetch failed", "endpoint", p.redacted, "key", q.Key, "err", err)
		return nil, fmt.Errorf("pip/http %s: %w", p.redacted, err)
	}
	return vals, nil
}

func (p *Provider) fetch(ctx context.Context, q pip.Query) (pip.Values, error) {
	body, err := json.Marshal(request{Category: q.Category, Key: q.Key, Attributes: q.Attributes})
	if err != nil {
		return nil, err
	}
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, p.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for name, vs := range p.cfg.header {
		req.Header[name] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "verdict-pip")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.CopyN(io.Discard, resp.Body, 4096)
		_ = resp.Body.Close()
	}()

	switch resp.StatusCode {
	case nethttp.StatusOK:
	case nethttp.StatusNotFound, nethttp.StatusNoContent:
		return pip.Values{}, nil
	default:
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return nil, fmt.Errorf("%w: %s: %q", ErrStatus, resp.Status, bytes.TrimSpace(snippet))
	}
	if resp.ContentLength > p.cfg.maxBody {
		return nil, fmt.Errorf("%w: %d bytes announced, limit %d", ErrResponseTooLarge, resp.ContentLength, p.cfg.maxBody)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, p.cfg.maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if int64(len(data)) > p.cfg.maxBody {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, p.cfg.maxBody)
	}
	return decode(data, q.Attributes)
}

// decode types the response object, keeping only the attributes asked for
// (all when attributes is empty).
func decode(data []byte, attributes []string) (pip.Values, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResponse, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrBadResponse)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: want a JSON object of attributes, got %T", ErrBadResponse, doc)
	}
	vals := make(pip.Values, len(obj))
	add := func(id string, raw any) error {
		bag, err := pip.FromJSON(raw)
		if err != nil {
			return fmt.Errorf("%w: attribute %q: %w", ErrBadResponse, id, err)
		}
		if len(bag) > 0 {
			vals[id] = bag
		}
		return nil
	}
	if len(attributes) == 0 {
		for id, raw := range obj {
			if err := add(id, raw); err != nil {
				return nil, err
			}
		}
		return vals, nil
	}
	for _, id := range attributes {
		if raw, ok := obj[id]; ok {
			if err := add(id, raw); err != nil {
				return nil, err
			}
		}
	}
	return vals, nil
}

// Describe returns the key attribute, the category supplied and the
// attributes declared with WithAttributes (nil when none were).
func (p *Provider) Describe() pip.Description {
	return pip.Description{Category: p.cfg.category, Key: p.key, Attributes: p.cfg.attributes}
}

// Close releases idle connections. It is idempotent; fetches after Close
// still work (they open new connections), so shutting down in any order
// is safe.
func (p *Provider) Close() error {
	p.closeOnce.Do(p.transport.CloseIdleConnections)
	return nil
}
