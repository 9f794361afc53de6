// Package sdk is what a Go service imports to authorize requests: an
// embedded policy decision point that decides in-process, in microseconds,
// and policy enforcement points for net/http, gRPC and Connect in front of
// it.
//
// # Deciding
//
// New returns a *PDP only once a policy is active — from a BundleSource
// (the NATS bundle stream), from the last-known-good bundle on disk, or
// from a *pdp.Policy given directly — so a service never serves a request
// it cannot decide. A PDP never fails open: with no active policy, after
// Close, or when the engine fails, Decide returns a Deny whose status says
// why, together with the error. Remote (NewRemote) asks a remote PDP over
// Connect and has the same contract; both satisfy Decider, which is all the
// enforcement points need.
//
// # Attributes
//
// Requests are built as DESIGN.md's attribute table says, whichever way
// they arrive, so that the same request gets the same decision from the
// embedded engine, the remote PDP and Envoy's ext_authz:
//
//   - a JWT's claims (AddClaims): every claim is an access-subject
//     attribute named after it, sub also as subject-id, scope split into a
//     bag;
//   - an HTTP request (NewHTTPRequest): action "name" = method, resource
//     "type" = "route", "id" = route pattern (or path), "path" = path,
//     environment "time" = now, access-subject "workload" = the SPIFFE ID
//     in the verified client certificate;
//   - an RPC (NewRPCRequest): action "name" = the full method
//     ("/pkg.Service/Method"), resource "type" = "rpc", "id" =
//     "pkg.Service/Method", environment "time", subject "workload";
//   - an AuthZEN evaluation (NewAuthZENRequest, ParseAuthZENRequest):
//     DESIGN.md contract 3.
//
// # Enforcing
//
// Middleware, UnaryServerInterceptor, StreamServerInterceptor and
// NewConnectInterceptor authenticate the bearer token with the configured
// *token.Verifier (401 / Unauthenticated when it is invalid), build the
// request, decide, and let the call through only on Permit whose
// obligations the PEP can fulfil (403 / PermissionDenied otherwise, as
// XACML 3.0 section 7.18 requires). The decision, with its obligations and
// advice, is in the handler's context (DecisionFromContext), and so are
// the verified claims (ClaimsFromContext).
package sdk
