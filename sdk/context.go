package sdk

import (
	"context"
	"crypto/tls"
	"net/http"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/token"
)

type (
	decisionKey struct{}
	claimsKey   struct{}
	tlsKey      struct{}
)

// DecisionFromContext returns the decision an enforcement point made for
// the call being handled, so that the handler can fulfil the obligations it
// declared (WithObligations), act on advice, or log the decision ID. A
// deny handler (WithDenyHandler) finds the refused decision here as well.
func DecisionFromContext(ctx context.Context) (*pdp.Decision, bool) {
	d, ok := ctx.Value(decisionKey{}).(*pdp.Decision)
	return d, ok && d != nil
}

// ClaimsFromContext returns the verified bearer token claims of the call
// being handled, so that handlers need not parse the token again.
func ClaimsFromContext(ctx context.Context) (*token.Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*token.Claims)
	return c, ok && c != nil
}

// ExposeTLS puts the connection's TLS state in the request context, where
// NewConnectInterceptor finds the caller's client certificate (Connect does
// not expose the *http.Request to interceptors). Wrap the Connect handler
// with it when workload identities matter.
func ExposeTLS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			r = r.WithContext(context.WithValue(r.Context(), tlsKey{}, r.TLS))
		}
		h.ServeHTTP(w, r)
	})
}

func tlsFromContext(ctx context.Context) *tls.ConnectionState {
	s, _ := ctx.Value(tlsKey{}).(*tls.ConnectionState)
	return s
}
