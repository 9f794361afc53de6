package sdk

import (
	"crypto/tls"
	"strings"
	"time"

	"github.com/verdict-authz/verdict/pdp"
)

// NewRPCRequest maps an RPC to attributes, the same way for gRPC and
// Connect so that a method gets the same decision whichever protocol
// carried the call: action "name" = the full method
// ("/pkg.Service/Method"); resource "type" = "rpc", "id" =
// "pkg.Service/Method"; environment "time" = now (xs:dateTime);
// access-subject "workload" = the SPIFFE ID of the verified client
// certificate in state, when there is one.
func NewRPCRequest(procedure string, state *tls.ConnectionState, now time.Time) *pdp.Request {
	req := &pdp.Request{Attributes: make([]pdp.Attribute, 0, 8)}
	req.Add(pdp.CategoryAction, AttributeName, stringValue(procedure))
	req.Add(pdp.CategoryResource, AttributeType, stringValue(ResourceTypeRPC))
	req.Add(pdp.CategoryResource, AttributeID, stringValue(strings.TrimPrefix(procedure, "/")))
	req.Add(pdp.CategoryEnvironment, AttributeTime, timeValue(now))
	if id, ok := WorkloadID(state); ok {
		req.Add(pdp.CategorySubject, AttributeWorkload, stringValue(id))
	}
	return req
}
