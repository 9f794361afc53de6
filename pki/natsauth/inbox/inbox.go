// Package inbox names the NATS inbox prefix of a service's identity. It is
// split from natsauth, which maps identities to permissions inside the
// NATS server, so that clients (the SDK, pdp serve) can apply the prefix
// without linking the server.
package inbox

import "github.com/verdict-authz/verdict/pki/spiffeid"

// Prefix is the inbox prefix a client of service must use
// (nats.CustomInboxPrefix): natsauth limits each client's subscriptions to
// it, so no workload can read the replies addressed to another. The "svc-"
// form cannot collide with the random tokens of default inboxes.
func Prefix(service string) string { return "_INBOX.svc-" + service }

// ForID is Prefix for the service of a spiffe://<td>/service/<name>
// identity, and "" (the client library's default inbox) for the zero ID
// or an identity that names no service: natsauth refuses such clients
// anyway, and a plaintext server does not restrict inboxes.
func ForID(id spiffeid.ID) string {
	if id.IsZero() || id.Service() == "" {
		return ""
	}
	return Prefix(id.Service())
}
