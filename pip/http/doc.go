// Package http is a policy information point served by an HTTP endpoint
// that the service owns: the service keeps its data where it is and
// answers the engine's questions over HTTPS.
//
// Import it under another name, for example
//
//	piphttp "github.com/verdict-authz/verdict/pip/http"
//
// # Protocol
//
// Each fetch is one request:
//
//	POST <endpoint>
//	Content-Type: application/json
//
//	{"category": "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject",
//	 "key": "alice",
//	 "attributes": ["roles", "department"]}
//
// "attributes" is omitted when every attribute of the entity is wanted.
// The endpoint answers:
//
//	200 with a JSON object of attribute id → value, typed as everywhere in
//	    Verdict (pip.FromJSON: string, boolean, integer, other number kept
//	    as written, array = bag, null = no value); attributes it does not
//	    have are simply absent, and an empty object means "unknown entity";
//	404 or 204: unknown entity (an empty answer, not a failure);
//	anything else: a failure (ErrStatus), and so is a malformed body
//	    (ErrBadResponse) or one larger than the limit (ErrResponseTooLarge).
//
// A failure makes what needed the attributes Indeterminate; wrap the
// provider with pip.Wrap for a timeout, circuit breaker and cache.
//
// # Transport security
//
// An https endpoint needs an explicit TLS client configuration
// (WithTLSConfig: the CA to trust, and a client certificate when the
// endpoint asks for one); TLS 1.2 is the minimum and certificate
// verification cannot be switched off. Plain http is refused unless
// WithInsecureLoopbackPlaintext is given and the endpoint is on the
// loopback interface, which is also checked on every connection. Proxies
// from the environment are not used, and redirects are not followed.
package http
