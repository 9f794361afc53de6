package tlsconfig

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// logRejectedByPeer writes the line the refused side sees. TLS alerts carry
// no reason, so the line adds what this side can check about its own
// certificate (expired? not yet valid?) to point the operator in the right
// direction.
func logRejectedByPeer(ctx context.Context, l *slog.Logger, src *Source, now time.Time, side, peer, alert string) {
	l.WarnContext(ctx, msgRejectedByPeer, rejectedByPeerAttrs(src, now, side, peer, alert)...)
}

// msgRejectedByPeer is the line logged when the peer refused our certificate.
const msgRejectedByPeer = "tls: peer refused our certificate"

func rejectedByPeerAttrs(src *Source, now time.Time, side, peer, alert string) []any {
	attrs := []any{"side", side, "peer", peer, "alert", alert}
	if src != nil {
		leaf := src.SVID().Leaf()
		attrs = append(attrs, "our_id", src.SVID().ID.String(), "our_serial", fmt.Sprintf("%x", leaf.SerialNumber),
			"our_not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
		switch {
		case now.After(leaf.NotAfter):
			attrs = append(attrs, "hint", "our certificate has expired; is renewal running?")
		case now.Before(leaf.NotBefore):
			attrs = append(attrs, "hint", "our certificate is not valid yet; check clocks")
		default:
			attrs = append(attrs, "hint", "peer may not trust our CA, may expect another identity, or our certificate may be revoked")
		}
	}
	return attrs
}

// HTTPClient returns an HTTP client that uses ClientConfig(src, opts...) and
// logs a clear line when a server refuses this client's certificate.
//
// In TLS 1.3 that refusal arrives after the client's handshake, as an alert
// on the first read, and HTTP/2 reports it only as "client conn could not be
// established". So when a request fails at the connection level, the client
// redials once (at most every few seconds per host) to read the alert and
// log it.
func HTTPClient(src *Source, opts ...Option) *http.Client {
	cfg := newConfig(opts)
	tlsCfg := ClientConfig(src, opts...)
	tr := &http.Transport{
		TLSClientConfig:     tlsCfg,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	return &http.Client{Transport: &rejectionLogger{base: tr, tls: tlsCfg, src: src, cfg: cfg, probed: map[string]time.Time{}}}
}

// probeEvery limits diagnostic redials per host.
const probeEvery = 5 * time.Second

type rejectionLogger struct {
	base   *http.Transport
	tls    *tls.Config
	src    *Source
	cfg    config
	mu     sync.Mutex
	probed map[string]time.Time
	// seen is the certificate the pooled connections were made with.
	seen atomic.Pointer[tls.Certificate]
}

func (r *rejectionLogger) RoundTrip(req *http.Request) (*http.Response, error) {
	// A pooled connection keeps authenticating with the certificate of its
	// handshake. After a renewal, drop idle connections so the next request
	// presents the new certificate (the CA's renew endpoint, for one,
	// checks the certificate of the connection).
	cur := r.src.Certificate()
	if prev := r.seen.Swap(cur); prev != nil && prev.Leaf != cur.Leaf {
		r.base.CloseIdleConnections()
	}
	resp, err := r.base.RoundTrip(req)
	if err == nil || req.Context().Err() != nil {
		return resp, err
	}
	var pe *PeerError
	switch alert, ok := RemoteRejection(err); {
	case ok:
		logRejectedByPeer(req.Context(), r.cfg.logger, r.src, r.cfg.now(), sideClient, req.URL.Host, alert)
	case errors.As(err, &pe):
		// We refused the server; the verifier already logged why.
	case req.URL.Scheme == "https" && r.shouldProbe(req.URL.Host):
		if alert, ok := r.probe(req.Context(), req.URL); ok {
			logRejectedByPeer(req.Context(), r.cfg.logger, r.src, r.cfg.now(), sideClient, req.URL.Host, alert)
		}
	}
	return resp, err
}

func (r *rejectionLogger) shouldProbe(host string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if last, ok := r.probed[host]; ok && now.Sub(last) < probeEvery {
		return false
	}
	r.probed[host] = now
	return true
}

// probe handshakes once more and waits briefly for an alert.
func (r *rejectionLogger) probe(ctx context.Context, u *url.URL) (string, bool) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "443")
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", false
	}
	cfg := r.tls.Clone()
	cfg.ServerName = u.Hostname()
	conn := tls.Client(raw, cfg)
	defer conn.Close()
	if err := conn.HandshakeContext(ctx); err != nil {
		return RemoteRejection(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, err = conn.Read(make([]byte, 1))
	return RemoteRejection(err)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the transport.
func (r *rejectionLogger) CloseIdleConnections() { r.base.CloseIdleConnections() }

// ServerErrorLog returns a logger for http.Server.ErrorLog that turns
// net/http's "TLS handshake error" lines into structured slog records: a
// client refusing our certificate becomes "tls: peer refused our
// certificate" with our certificate's details; refusals this side made are
// already logged by the verifier and drop to Debug.
// ctx supplies values (trace IDs) for the records; net/http gives none.
func ServerErrorLog(ctx context.Context, l *slog.Logger, src *Source) *log.Logger {
	return log.New(errorLogWriter{ctx: ctx, l: l, src: src}, "", 0)
}

type errorLogWriter struct {
	ctx context.Context
	l   *slog.Logger
	src *Source
}

const handshakePrefix = "http: TLS handshake error from "

func (w errorLogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	rest, ok := strings.CutPrefix(line, handshakePrefix)
	if !ok {
		w.l.ErrorContext(w.ctx, "http server", "error", line)
		return len(p), nil
	}
	remote, msg, _ := strings.Cut(rest, ": ")
	switch {
	case strings.Contains(msg, "remote error: "):
		alert := msg[strings.Index(msg, "remote error: ")+len("remote error: "):]
		logRejectedByPeer(w.ctx, w.l, w.src, time.Now(), sideServer, remote, alert)
	case strings.HasPrefix(msg, "tlsconfig: "):
		w.l.DebugContext(w.ctx, "tls: handshake refused", "peer", remote, "error", msg)
	default:
		w.l.InfoContext(w.ctx, "tls: handshake failed", "peer", remote, "error", msg)
	}
	return len(p), nil
}
