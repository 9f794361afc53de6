// Package server is Verdict's remote PDP: one decision engine served to
// callers that cannot embed the Go SDK, over every protocol they may speak,
// with the same decision for the same request whichever way it arrives.
//
// A Server wraps a ready *pdp.Engine (and, for the search APIs, the pip.Set
// the engine uses). It never compiles policies: cmd/verdict compiles policy
// files or follows a bundle stream and hands the engine over.
//
// # HTTP (Handler)
//
//	POST /access/v1/evaluation          AuthZEN 1.0 Access Evaluation
//	POST /access/v1/evaluations         AuthZEN 1.0 Access Evaluations (batch)
//	POST /access/v1/search/subject      AuthZEN 1.0 Subject Search
//	POST /access/v1/search/resource     AuthZEN 1.0 Resource Search
//	POST /access/v1/search/action       AuthZEN 1.0 Action Search
//	GET  /.well-known/authzen-configuration   PDP metadata
//	     /verdict.v1.DecisionService/*  Connect (and gRPC, gRPC-Web) DecisionService
//	GET  /metrics                       Prometheus
//	GET  /healthz                       200 once a policy is active, 503 before
//
// Every response, errors included, carries the request's X-Request-ID (one
// is generated when the request has none). Malformed input is answered 400
// with {"error": "..."} naming the field at fault; a body over the size
// limit 413. A decision is always HTTP 200: {"decision": true} for Permit,
// {"decision": false, "context": {...}} for Deny, NotApplicable and
// Indeterminate, with the XACML decision, status and any obligations and
// advice under context.
//
// As the AuthZEN 1.0 specification and its certification scenario require
// for forward compatibility, unknown members of a request body are ignored;
// WithRejectUnknownFields makes them a 400 instead.
//
// # Mapping to XACML attributes (DESIGN.md contract 3)
//
// subject → access-subject, action → action, resource → resource, context →
// environment. Every top-level member of an entity (type, id, name, ...)
// becomes an attribute with that AttributeId, and so does every member of
// its properties; every member of context becomes an environment attribute.
// Values are typed as everywhere in Verdict (pdp.JSONValues): string →
// xs:string, boolean → xs:boolean, integer → xs:integer, other number →
// xs:double with its lexical form kept, array → bag; null is an empty bag.
// XACML has no object type, so a JSON object's members become attributes
// named "member.sub" (recursively), as token.Claims.Attributes does with
// JWT claims. In addition, so that policies written against the standard
// XACML identifiers work unchanged, subject id is also
// urn:oasis:names:tc:xacml:1.0:subject:subject-id, resource id also
// urn:oasis:names:tc:xacml:1.0:resource:resource-id and action name also
// urn:oasis:names:tc:xacml:1.0:action:action-id.
//
// In a batch, an item's subject, action or resource replaces the top-level
// default as a whole, except that a required member it lacks (type and id,
// or name) is taken from the default; an item's context replaces the
// default context.
//
// # Search
//
// Subject and resource candidates are the entities listed by the PIP
// sources of that category whose provider implements pip.Lister (reached
// with pip.As) and whose key attribute is "id" or, when there is none, the
// ids the policy names (WithPolicyEntityIDs); action candidates are the
// names given with WithActionNames. Each candidate is evaluated through the
// engine as an ordinary evaluation and kept when permitted. Pages hold
// page.limit results (default and maximum set with WithSearchPageSize);
// page.next_token, an opaque token bound to the search it came from, is
// empty on the last page. A search whose fixed subject or resource is
// unknown to the candidates of its category returns no results. An entity's
// type is its "type" attribute, else its source's WithEntityType; an untyped
// entity matches a requested type that is among the types known for its
// category (WithKnownTypes and the sources' entity types), or any type when
// none is known.
//
// # gRPC (GRPCServer)
//
// verdict.v1.DecisionService (Evaluate, EvaluateBatch), Envoy's
// envoy.service.auth.v3.Authorization/Check, grpc.health.v1.Health (SERVING
// once a policy is active) and server reflection, with a maximum message
// size and a default deadline for calls that carry none.
//
// # Envoy ext_authz
//
// Check maps the HTTP request as DESIGN.md's attribute table says: action
// "name" = method; resource "type" = "route", "id" and "path" = the request
// path (without query); environment "time" = now (xs:dateTime); access-subject
// "workload" = attributes.source.principal (set by Envoy from the downstream
// certificate); and, when the request has an "authorization: Bearer" header
// and a TokenValidator is configured, every claim as an access-subject
// attribute. An invalid token is denied with HTTP 401.
//
// A Permit is OK; every other decision is PERMISSION_DENIED with HTTP 403
// and the AuthZEN JSON body. Headers come from obligations and advice of the
// decision:
//
//   - obligation or advice urn:verdict:obligation:http-header: each
//     assignment adds a header named by its AttributeId with its value to
//     the upstream request (OK) or to the denied response;
//   - obligation or advice urn:verdict:obligation:http-response-header: the
//     same, on the response sent back downstream (OK only);
//   - in any obligation or advice, an assignment whose AttributeId is
//     "header:NAME" adds header NAME as the first kind does.
//
// A Permit with an obligation Envoy cannot fulfil (none of the above) is
// denied, as XACML 3.0 section 7.18 requires of a PEP.
//
// # Transport security
//
// Servers use the *tls.Config given with WithTLS; when it names client CAs,
// client certificates are required and verified. A configuration from
// pki/tlsconfig (ServerConfig over a Source) follows certificate renewal
// and CA rotation without restart. WithRevocation cuts revoked clients off:
// their handshakes are refused and their live HTTP and gRPC connections
// closed the moment the serial reaches the revocation set. Refused
// handshakes are logged on both sides with the reason. Plaintext needs the
// explicit WithInsecurePlaintext, and then every listener must be on a
// loopback address (ErrPlaintextNotLoopback otherwise).
package server
