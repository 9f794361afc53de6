package caservice_test

import (
	"testing"

	"connectrpc.com/connect"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caservice"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// caPolicy is a compiled policy in the xacml/compile contract, written by
// hand: admin may do anything; ops may create join tokens for web only;
// "audited" is permitted only with an obligation; other callers are denied
// and anonymous ones are not applicable.
const caPolicy = `package verdict.main

import rego.v1

subj := "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"
act := "urn:oasis:names:tc:xacml:3.0:attribute-category:action"
res := "urn:oasis:names:tc:xacml:3.0:attribute-category:resource"

workload := w if { w := input.a[subj].workload.string[0] } else := ""
action := a if { a := input.a[act].name.string[0] } else := ""
service := s if { s := input.a[res].service.string[0] } else := ""

result := {"d": "P", "o": [], "a": []} if {
	workload == "spiffe://example.org/service/admin"
} else := {"d": "P", "o": [], "a": []} if {
	workload == "spiffe://example.org/service/ops"
	action == "jointoken.create"
	service == "web"
} else := {"d": "P", "o": [{"id": "notify", "as": []}], "a": []} if {
	workload == "spiffe://example.org/service/audited"
} else := {"d": "D", "o": [], "a": []} if {
	workload != ""
} else := {"d": "NA"}

policy_ids := [{"k": "Policy", "id": "ca", "v": "1.0"}]
`

func TestPolicyAuthorizer(t *testing.T) {
	engine := pdp.New()
	if err := engine.Activate(t.Context(), &pdp.Policy{Service: "ca", Modules: map[string]string{"main.rego": caPolicy}}); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, ca.WithAuthorizer(caservice.PolicyAuthorizer(engine)))
	ops := f.clients(t, f.svid(t, "ops", ca.ProfileClient))
	audited := f.clients(t, f.svid(t, "audited", ca.ProfileClient))
	admin := f.clients(t, f.svid(t, "admin", ca.ProfileClient))
	anon := f.clients(t, nil)
	for name := range ops {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			token := func(c rpc, service string) error {
				_, err := c.CreateJoinToken(ctx, &verdictv1.CreateJoinTokenRequest{Service: service})
				return err
			}
			cases := []struct {
				what string
				err  error
				want connect.Code
			}{
				{"ops token for web", token(ops[name], "web"), codeOK},
				{"ops token for db", token(ops[name], "db"), connect.CodePermissionDenied},
				{"ops revoke", second(ops[name].Revoke(ctx, &verdictv1.RevokeRequest{SerialNumber: "99"})), connect.CodePermissionDenied},
				{"permit with obligation", token(audited[name], "web"), connect.CodePermissionDenied},
				{"anonymous", token(anon[name], "web"), connect.CodePermissionDenied},
				{"admin token for db", token(admin[name], "db"), codeOK},
			}
			for _, c := range cases {
				got := codeOK
				if c.err != nil {
					got = codeOf(c.err)
				}
				if got != c.want {
					t.Errorf("%s: %v (code %s), want %s", c.what, c.err, got, c.want)
				}
			}
		})
	}
}

func TestAuthzRequestAttributes(t *testing.T) {
	admin := mustID(t, "admin")
	web := mustID(t, "web")
	req := caservice.AuthzRequest(ca.AuthzRequest{Caller: admin, Action: ca.ActionRevoke, Subject: web, Profile: ca.ProfilePeer, Serial: bigInt(42)})
	want := map[[2]string]string{
		{pdp.CategorySubject, caservice.AttrWorkload}:         admin.String(),
		{pdp.CategorySubject, caservice.AttrSubjectID}:        admin.String(),
		{pdp.CategorySubject, caservice.AttrCallerService}:    "admin",
		{pdp.CategoryAction, caservice.AttrActionName}:        "revoke",
		{pdp.CategoryResource, caservice.AttrResourceType}:    "certificate",
		{pdp.CategoryResource, caservice.AttrResourceID}:      web.String(),
		{pdp.CategoryResource, caservice.AttrResourceService}: "web",
		{pdp.CategoryResource, caservice.AttrProfile}:         "peer",
		{pdp.CategoryResource, caservice.AttrSerial}:          "42",
	}
	for k, v := range want {
		got := req.Get(k[0], k[1])
		if len(got) != 1 || got[0].Lexical != v || got[0].Type != "string" {
			t.Errorf("%s %s = %v, want %q", k[0], k[1], got, v)
		}
	}
	if n := len(req.Attributes); n != len(want) {
		t.Errorf("%d attributes, want %d", n, len(want))
	}
	anon := caservice.AuthzRequest(ca.AuthzRequest{Action: ca.ActionSign})
	if got := anon.Get(pdp.CategorySubject, caservice.AttrWorkload); len(got) != 0 {
		t.Errorf("anonymous request has workload %v", got)
	}
}

// codeOK stands for success in tables of expected codes (Connect has no
// name for code 0).
const codeOK connect.Code = 0
