package sdk

import (
	"crypto/tls"
	"net/http"
	"strings"
	"time"

	"github.com/verdict-authz/verdict/pdp"
)

// Attribute identifiers the HTTP and RPC mappings produce (DESIGN.md's
// table). Policies protecting routes and methods designate these.
const (
	// AttributeName is the action attribute holding the HTTP method or the
	// full RPC method.
	AttributeName = "name"
	// AttributeType is the resource attribute holding "route" or "rpc".
	AttributeType = "type"
	// AttributeID is the resource attribute holding the route pattern (or
	// path) or "pkg.Service/Method".
	AttributeID = "id"
	// AttributePath is the resource attribute holding the request path.
	AttributePath = "path"
	// AttributeTime is the environment attribute holding the time of the
	// request, an xs:dateTime.
	AttributeTime = "time"
	// AttributeWorkload is the access-subject attribute holding the calling
	// workload's SPIFFE ID, from its verified client certificate.
	AttributeWorkload = "workload"
)

// Resource types of the HTTP and RPC mappings.
const (
	ResourceTypeRoute = "route"
	ResourceTypeRPC   = "rpc"
)

// NewHTTPRequest maps an HTTP request to attributes as DESIGN.md's table
// says, exactly as Envoy's ext_authz path of the remote PDP does: action
// "name" = method; resource "type" = "route", "id" = route (the request
// path when route is empty), "path" = the request path; environment "time"
// = now (xs:dateTime); access-subject "workload" = the SPIFFE ID of the
// verified client certificate, when there is one (see WorkloadID). Bearer
// token claims are added separately (AddClaims), once the token is
// verified.
func NewHTTPRequest(r *http.Request, route string, now time.Time) *pdp.Request {
	path := r.URL.Path
	if route == "" {
		route = path
	}
	req := &pdp.Request{Attributes: make([]pdp.Attribute, 0, 8)}
	req.Add(pdp.CategoryAction, AttributeName, stringValue(r.Method))
	req.Add(pdp.CategoryResource, AttributeType, stringValue(ResourceTypeRoute))
	req.Add(pdp.CategoryResource, AttributeID, stringValue(route))
	req.Add(pdp.CategoryResource, AttributePath, stringValue(path))
	req.Add(pdp.CategoryEnvironment, AttributeTime, timeValue(now))
	if id, ok := WorkloadID(r.TLS); ok {
		req.Add(pdp.CategorySubject, AttributeWorkload, stringValue(id))
	}
	return req
}

// RoutePattern returns the pattern of the http.ServeMux route that matched
// r (Go 1.22+ sets r.Pattern), without its method, so that a policy names
// "/todos/{id}" once for every todo; "" when r was not routed by a
// ServeMux (or not yet: a middleware around the whole mux runs before
// routing — see WithServeMux).
func RoutePattern(r *http.Request) string {
	return stripMethod(r.Pattern)
}

// stripMethod removes the "METHOD " prefix of a ServeMux pattern.
func stripMethod(pattern string) string {
	i := strings.IndexAny(pattern, " \t")
	if i < 0 || strings.Contains(pattern[:i], "/") {
		return pattern
	}
	return strings.TrimLeft(pattern[i:], " \t")
}

// WorkloadID returns the calling workload's identity: the spiffe:// URI SAN
// of the client certificate, provided the TLS handshake verified that
// certificate (a certificate that was merely presented proves nothing) and
// it carries exactly one SPIFFE ID, as an X.509-SVID must.
func WorkloadID(state *tls.ConnectionState) (string, bool) {
	if state == nil || len(state.VerifiedChains) == 0 || len(state.VerifiedChains[0]) == 0 {
		return "", false
	}
	id := ""
	for _, u := range state.VerifiedChains[0][0].URIs {
		if !strings.EqualFold(u.Scheme, "spiffe") {
			continue
		}
		if id != "" {
			return "", false
		}
		id = u.String()
	}
	return id, id != ""
}

func stringValue(s string) pdp.Value {
	return pdp.Value{Type: "string", Lexical: s, Untyped: true}
}

func timeValue(t time.Time) pdp.Value {
	return pdp.Value{Type: "dateTime", Lexical: t.UTC().Format(time.RFC3339Nano)}
}
