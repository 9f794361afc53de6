package sdk

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/token"
)

// pep is what every enforcement point shares: authenticate the bearer
// token, decide, and check that the decision can be enforced.
type pep struct {
	decider Decider
	cfg     pepConfig
}

// verifierHolder is implemented by *PDP, so that enforcement points in
// front of it use the verifier given to New.
type verifierHolder interface{ tokenVerifier() *token.Verifier }

func newPEP(d Decider, opts []PEPOption) *pep {
	if d == nil {
		panic("sdk: enforcement point needs a Decider")
	}
	cfg := pepConfig{logger: slog.Default(), now: time.Now}
	for _, o := range opts {
		if o != nil {
			o.applyToPEP(&cfg)
		}
	}
	if cfg.verifier == nil {
		if h, ok := d.(verifierHolder); ok {
			cfg.verifier = h.tokenVerifier()
		}
	}
	if cfg.requireToken && cfg.verifier == nil {
		cfg.logger.Error("sdk: RequireToken without a token verifier: every call will be refused")
	}
	return &pep{decider: d, cfg: cfg}
}

// authenticate verifies the bearer token in the Authorization values (a
// header or gRPC metadata). No token is anonymous unless RequireToken; a
// token with no verifier configured is ignored, as ext_authz does, so the
// policy decides without its claims.
func (p *pep) authenticate(ctx context.Context, authorization []string) (*token.Claims, error) {
	raw, err := bearerToken(authorization)
	switch {
	case err != nil:
		return nil, err
	case raw == "" && p.cfg.requireToken:
		return nil, fmt.Errorf("%w: %w", ErrUnauthenticated, errMissingToken)
	case raw == "":
		return nil, nil
	case p.cfg.verifier == nil && p.cfg.requireToken:
		return nil, fmt.Errorf("%w: no token verifier configured", ErrUnauthenticated)
	case p.cfg.verifier == nil:
		return nil, nil
	}
	claims, err := p.cfg.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	return claims, nil
}

// errNoToken marks an Authorization value that is present but carries no
// usable bearer token; errMissingToken a required token that is absent, so
// that the 401 challenge can tell them apart (RFC 6750 section 3.1).
var (
	errNoToken      = errors.New("malformed bearer token")
	errMissingToken = errors.New("a bearer token is required")
)

// bearerToken extracts the token of "Bearer TOKEN" (scheme case-insensitive,
// RFC 6750). Another scheme is not ours and counts as no token; several
// Authorization values, or "Bearer" without a token, are refused rather
// than guessed at.
func bearerToken(values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", fmt.Errorf("%w: %w: %d authorization values", ErrUnauthenticated, errNoToken, len(values))
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "bearer") {
		return "", nil
	}
	tok := strings.TrimSpace(rest)
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", fmt.Errorf("%w: %w", ErrUnauthenticated, errNoToken)
	}
	return tok, nil
}

// enforce decides req (with the token's claims) and returns the decision,
// with an error wrapping ErrDenied unless the call may proceed: the
// decision is Permit and every obligation in it is fulfilled. The decision
// is never nil.
func (p *pep) enforce(ctx context.Context, req *pdp.Request, claims *token.Claims) (*pdp.Decision, error) {
	if claims != nil {
		if err := AddClaims(req, claims); err != nil {
			err = fmt.Errorf("%w: %w: %w", ErrDenied, pdp.ErrBadRequest, err)
			return denyDecision(err, nil), err
		}
	}
	d, err := p.decider.Decide(ctx, req)
	if d == nil {
		if err == nil {
			err = errors.New("the decider returned no decision")
		}
		d = denyDecision(err, nil)
	}
	if err != nil {
		p.cfg.logger.WarnContext(ctx, "sdk: decision failed closed", "decision_id", d.ID, "error", err)
		return d, fmt.Errorf("%w: %w", ErrDenied, err)
	}
	if d.Effect != pdp.EffectPermit {
		p.fulfilDeny(ctx, d)
		return d, fmt.Errorf("%w: decision %s", ErrDenied, d.Effect)
	}
	for _, o := range d.Obligations {
		if h, ok := p.cfg.handlers[o.ID]; ok {
			if err := h(ctx, o); err != nil {
				p.cfg.logger.WarnContext(ctx, "sdk: obligation failed, refusing a permit", "decision_id", d.ID, "obligation", o.ID, "error", err)
				return d, fmt.Errorf("%w: obligation %s failed: %w", ErrDenied, o.ID, err)
			}
			continue
		}
		if !p.cfg.understood[o.ID] {
			p.cfg.logger.WarnContext(ctx, "sdk: permit with an obligation this PEP cannot fulfil, refusing", "decision_id", d.ID, "obligation", o.ID)
			return d, fmt.Errorf("%w: obligation %s cannot be fulfilled", ErrDenied, o.ID)
		}
	}
	return d, nil
}

// fulfilDeny runs the handlers of a refusal's obligations; the call is
// refused whatever they return.
func (p *pep) fulfilDeny(ctx context.Context, d *pdp.Decision) {
	for _, o := range d.Obligations {
		if h, ok := p.cfg.handlers[o.ID]; ok {
			if err := h(ctx, o); err != nil {
				p.cfg.logger.WarnContext(ctx, "sdk: obligation of a refusal failed", "decision_id", d.ID, "obligation", o.ID, "error", err)
			}
		}
	}
}

// authorizeRPC is the gRPC and Connect enforcement: it returns the context
// for the handler (decision and claims in it), or an error wrapping
// ErrUnauthenticated or ErrDenied.
func (p *pep) authorizeRPC(ctx context.Context, procedure string, authorization []string, state *tls.ConnectionState) (context.Context, *pdp.Decision, error) {
	claims, err := p.authenticate(ctx, authorization)
	if err != nil {
		p.cfg.logger.DebugContext(ctx, "sdk: unauthenticated call", "procedure", procedure, "error", err)
		return ctx, nil, err
	}
	if claims != nil {
		ctx = context.WithValue(ctx, claimsKey{}, claims)
	}
	req := NewRPCRequest(procedure, state, p.cfg.now())
	if p.cfg.rpcAttrs != nil {
		if err := p.cfg.rpcAttrs(ctx, procedure, req); err != nil {
			err = fmt.Errorf("%w: request attributes: %w", ErrDenied, err)
			p.cfg.logger.WarnContext(ctx, "sdk: could not build the request, refusing", "procedure", procedure, "error", err)
			return ctx, denyDecision(err, nil), err
		}
	}
	d, err := p.enforce(ctx, req, claims)
	ctx = context.WithValue(ctx, decisionKey{}, d)
	return ctx, d, err
}

// route names the resource of an HTTP request as WithRoute documents.
func (p *pep) route(r *http.Request) string {
	if p.cfg.route != nil {
		return p.cfg.route(r)
	}
	if pat := RoutePattern(r); pat != "" {
		return pat
	}
	if p.cfg.mux != nil {
		_, pat := p.cfg.mux.Handler(r)
		return stripMethod(pat)
	}
	return ""
}
