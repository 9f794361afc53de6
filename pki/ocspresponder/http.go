package ocspresponder

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ServeHTTP implements RFC 6960 appendix A: GET <prefix>/<base64(DER)> and
// POST <prefix> with an application/ocsp-request body. It must be mounted so
// that the path is not cleaned (base64 may contain "//"); register it ahead
// of an http.ServeMux, or on a path prefix the mux does not clean.
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var (
		der []byte
		err error
	)
	switch req.Method {
	case http.MethodGet:
		der, err = r.getRequest(req)
	case http.MethodPost:
		der, err = io.ReadAll(http.MaxBytesReader(w, req.Body, r.cfg.maxBody))
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err != nil {
		r.cfg.logger.InfoContext(req.Context(), "ocsp: unreadable request", "remote", req.RemoteAddr, "error", err)
		r.write(w, ocsp.MalformedRequestErrorResponse, false)
		return
	}
	resp, nonced, err := r.respondDER(req.Context(), der)
	if err != nil {
		r.cfg.logger.Log(req.Context(), slogLevelFor(err), "ocsp: request failed", "remote", req.RemoteAddr, "error", err)
		r.write(w, resp, false)
		return
	}
	r.write(w, resp, req.Method == http.MethodGet && !nonced)
}

// getRequest decodes the base64 request from the path. Clients differ in how
// they escape it, so standard and URL-safe alphabets, with or without
// padding, are all accepted, and a '+' turned into ' ' by a proxy is restored.
func (r *Responder) getRequest(req *http.Request) ([]byte, error) {
	raw := req.URL.EscapedPath()
	i := strings.Index(raw, r.cfg.prefix+"/")
	if i < 0 {
		return nil, errors.New("no request in path")
	}
	raw = raw[i+len(r.cfg.prefix)+1:]
	s, err := url.PathUnescape(raw)
	if err != nil {
		return nil, err
	}
	s = strings.ReplaceAll(s, " ", "+")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if der, err := enc.DecodeString(s); err == nil {
			return der, nil
		}
	}
	return nil, fmt.Errorf("request path is not base64")
}

// write sends a response. Successful responses to nonce-less GET requests
// carry RFC 5019 caching headers; nonced ones and errors must not be cached.
func (r *Responder) write(w http.ResponseWriter, resp []byte, cacheable bool) {
	h := w.Header()
	h.Set("Content-Type", "application/ocsp-response")
	h.Set("Content-Length", fmt.Sprint(len(resp)))
	if cacheable {
		now := r.cfg.now()
		sum := sha256.Sum256(resp)
		h.Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		h.Set("Last-Modified", now.UTC().Format(http.TimeFormat))
		h.Set("Expires", now.Add(r.cfg.validity).UTC().Format(http.TimeFormat))
		h.Set("Cache-Control", fmt.Sprintf("max-age=%d, public, no-transform, must-revalidate", int(r.cfg.validity/time.Second)))
	} else {
		h.Set("Cache-Control", "no-cache, no-store")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(resp)
}
