package inbox_test

import (
	"testing"

	"github.com/verdict-authz/verdict/pki/natsauth"
	"github.com/verdict-authz/verdict/pki/natsauth/inbox"
	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// TestPrefix: the prefix a client applies is the one natsauth's
// permissions allow that service, and nothing for no identity.
func TestPrefix(t *testing.T) {
	id := spiffeid.Must("example.org", "web")
	if got, want := inbox.ForID(id), natsauth.InboxPrefix("web"); got != want || got != "_INBOX.svc-web" {
		t.Fatalf("ForID(%s) = %q, natsauth allows %q", id, got, want)
	}
	perms := natsauth.Permissions(id, natsauth.Layout{})
	found := false
	for _, s := range perms.Subscribe.Allow {
		found = found || s == inbox.Prefix("web")+".>"
	}
	if !found {
		t.Fatalf("web may not subscribe to its inbox prefix: %v", perms.Subscribe.Allow)
	}
	if got := inbox.ForID(spiffeid.ID{}); got != "" {
		t.Fatalf("ForID(zero) = %q, want \"\"", got)
	}
}
