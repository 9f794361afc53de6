package sdk

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/token"
)

// PEPOption configures the enforcement points: Middleware,
// UnaryServerInterceptor, StreamServerInterceptor and
// NewConnectInterceptor.
type PEPOption interface{ applyToPEP(*pepConfig) }

// ObligationHandler fulfils one obligation of a decision before the call
// proceeds (a Permit) or is refused (a Deny). An error on a Permit refuses
// the call: XACML 3.0 section 7.18 forbids granting access when an
// obligation cannot be fulfilled.
type ObligationHandler func(ctx context.Context, o pdp.Obligation) error

type pepConfig struct {
	logger       *slog.Logger
	verifier     *token.Verifier
	requireToken bool
	now          func() time.Time
	route        func(*http.Request) string
	mux          *http.ServeMux
	understood   map[string]bool
	handlers     map[string]ObligationHandler
	denied       http.Handler
	httpAttrs    func(r *http.Request, req *pdp.Request) error
	rpcAttrs     func(ctx context.Context, procedure string, req *pdp.Request) error
}

type pepOptionFunc func(*pepConfig)

func (f pepOptionFunc) applyToPEP(c *pepConfig) { f(c) }

// RequireToken refuses calls without a bearer token (401 /
// Unauthenticated) instead of deciding them as anonymous, for APIs where
// every caller must be a known user.
func RequireToken() PEPOption {
	return pepOptionFunc(func(c *pepConfig) { c.requireToken = true })
}

// WithRoute sets how the HTTP middleware names the route of a request (the
// resource "id" attribute), for routers other than http.ServeMux; an empty
// result falls back to the request path. By default the ServeMux pattern
// (RoutePattern, or WithServeMux's lookup) is used.
func WithRoute(route func(r *http.Request) string) PEPOption {
	return pepOptionFunc(func(c *pepConfig) { c.route = route })
}

// WithServeMux lets a middleware wrapped around the whole mux name routes
// by mux's pattern: it runs before the mux has routed the request (so
// r.Pattern is still empty), and looks the pattern up with mux.Handler.
func WithServeMux(mux *http.ServeMux) PEPOption {
	return pepOptionFunc(func(c *pepConfig) { c.mux = mux })
}

// WithClock sets the clock of the environment "time" attribute, so that
// tests of time-dependent policies are reproducible.
func WithClock(now func() time.Time) PEPOption {
	return pepOptionFunc(func(c *pepConfig) { c.now = now })
}

// WithObligations declares obligations the protected handler fulfils
// itself, reading them from DecisionFromContext. A Permit carrying any
// obligation that is neither declared here nor handled by
// WithObligationHandler is refused, as XACML 3.0 section 7.18 requires.
func WithObligations(ids ...string) PEPOption {
	return pepOptionFunc(func(c *pepConfig) {
		if c.understood == nil {
			c.understood = map[string]bool{}
		}
		for _, id := range ids {
			c.understood[id] = true
		}
	})
}

// WithObligationHandler has the PEP fulfil obligation id with h before the
// call proceeds (see ObligationHandler).
func WithObligationHandler(id string, h ObligationHandler) PEPOption {
	return pepOptionFunc(func(c *pepConfig) {
		if c.handlers == nil {
			c.handlers = map[string]ObligationHandler{}
		}
		c.handlers[id] = h
	})
}

// WithDenyHandler replaces the HTTP middleware's plain 403 response, for
// services that answer refusals in their own format. The decision is in the
// request's context (DecisionFromContext).
func WithDenyHandler(h http.Handler) PEPOption {
	return pepOptionFunc(func(c *pepConfig) { c.denied = h })
}

// WithHTTPAttributes lets the HTTP middleware add attributes of its own
// (the resource's owner, a tenant header...) to each request before it is
// decided. An error refuses the request (403).
func WithHTTPAttributes(add func(r *http.Request, req *pdp.Request) error) PEPOption {
	return pepOptionFunc(func(c *pepConfig) { c.httpAttrs = add })
}

// WithRPCAttributes lets the gRPC and Connect interceptors add attributes
// of their own to each call before it is decided; procedure is the full
// method ("/pkg.Service/Method"). An error refuses the call
// (PermissionDenied).
func WithRPCAttributes(add func(ctx context.Context, procedure string, req *pdp.Request) error) PEPOption {
	return pepOptionFunc(func(c *pepConfig) { c.rpcAttrs = add })
}
