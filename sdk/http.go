package sdk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Middleware protects an HTTP handler: it verifies the bearer token
// (WithTokenVerifier, or the one given to New), answering 401 with a
// WWW-Authenticate challenge when it is invalid; builds the request as
// NewHTTPRequest and AddClaims do; decides with d; and calls the handler
// only for a Permit whose obligations are fulfilled, answering 403
// otherwise (see WithDenyHandler). The handler finds the decision and the
// claims in its request context (DecisionFromContext, ClaimsFromContext).
//
// Wrap single routes of an http.ServeMux to have their pattern as the
// resource id, or the whole mux together with WithServeMux.
func Middleware(d Decider, opts ...PEPOption) func(http.Handler) http.Handler {
	p := newPEP(d, opts)
	denied := p.cfg.denied
	if denied == nil {
		denied = http.HandlerFunc(forbidden)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			claims, err := p.authenticate(ctx, r.Header.Values("Authorization"))
			if err != nil {
				p.cfg.logger.DebugContext(ctx, "sdk: unauthenticated request", "method", r.Method, "path", r.URL.Path, "error", err)
				unauthorized(w, err)
				return
			}
			if claims != nil {
				ctx = context.WithValue(ctx, claimsKey{}, claims)
			}
			req := NewHTTPRequest(r, p.route(r), p.cfg.now())
			if p.cfg.httpAttrs != nil {
				if err := p.cfg.httpAttrs(r, req); err != nil {
					err = fmt.Errorf("%w: request attributes: %w", ErrDenied, err)
					p.cfg.logger.WarnContext(ctx, "sdk: could not build the request, refusing", "method", r.Method, "path", r.URL.Path, "error", err)
					r = r.WithContext(context.WithValue(ctx, decisionKey{}, denyDecision(err, nil)))
					denied.ServeHTTP(w, r)
					return
				}
			}
			dec, err := p.enforce(ctx, req, claims)
			r = r.WithContext(context.WithValue(ctx, decisionKey{}, dec))
			if err != nil {
				denied.ServeHTTP(w, r)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// unauthorized answers 401 with the RFC 6750 challenge: invalid_token when
// a token was presented, a bare challenge when one is required but absent.
func unauthorized(w http.ResponseWriter, err error) {
	challenge := "Bearer"
	if !errors.Is(err, errMissingToken) {
		challenge = `Bearer error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

// forbidden is the default refusal: no detail beyond the decision ID, which
// support staff can look up in the decision log.
func forbidden(w http.ResponseWriter, r *http.Request) {
	msg := "forbidden"
	if d, ok := DecisionFromContext(r.Context()); ok {
		msg += " (decision " + d.ID + ")"
	}
	http.Error(w, msg, http.StatusForbidden)
}
