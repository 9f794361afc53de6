package spiffeid_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pki/spiffeid"
)

func TestParseRoundTrip(t *testing.T) {
	id, err := spiffeid.Parse("spiffe://example.org/service/billing-api")
	if err != nil {
		t.Fatal(err)
	}
	if id.TrustDomain() != "example.org" || id.Service() != "billing-api" || id.String() != "spiffe://example.org/service/billing-api" {
		t.Fatalf("parsed %+v", id)
	}
	if id != spiffeid.Must("example.org", "billing-api") {
		t.Fatal("Parse and New disagree")
	}
	if !id.MemberOf("example.org") || id.MemberOf("other.org") || (spiffeid.ID{}).MemberOf("") {
		t.Fatal("MemberOf")
	}
	b, _ := json.Marshal(struct{ ID spiffeid.ID }{id})
	var back struct{ ID spiffeid.ID }
	if err := json.Unmarshal(b, &back); err != nil || back.ID != id {
		t.Fatalf("JSON round trip: %s %v", b, err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{
		"",
		"https://example.org/service/a",
		"spiffe://example.org/workload/a",
		"spiffe://example.org/service/",
		"spiffe://example.org/service/a/b",
		"spiffe://example.org/service/A",
		"spiffe://example.org/service/-a",
		"spiffe://example.org/service/" + strings.Repeat("a", 64),
		"spiffe://Example.org/service/a",
		"spiffe://example.org:8443/service/a",
		"spiffe://user@example.org/service/a",
		"spiffe://example.org/service/a?x=1",
		"spiffe://example.org/service/a#f",
		"spiffe:///service/a",
		"spiffe://example.org/service/a%2Fb",
	} {
		if _, err := spiffeid.Parse(s); !errors.Is(err, spiffeid.ErrInvalid) {
			t.Errorf("Parse(%q) err = %v, want ErrInvalid", s, err)
		}
	}
}

func TestValidateServiceName(t *testing.T) {
	for _, ok := range []string{"a", "0", "pap", "billing-api", strings.Repeat("z", 63)} {
		if err := spiffeid.ValidateServiceName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", "A", "a_b", "a.b", "a b", strings.Repeat("z", 64), "é"} {
		if err := spiffeid.ValidateServiceName(bad); !errors.Is(err, spiffeid.ErrInvalidServiceName) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFromCertificate(t *testing.T) {
	u := func(s string) *url.URL { p, _ := url.Parse(s); return p }
	cert := &x509.Certificate{URIs: []*url.URL{u("https://example.org/x"), u("spiffe://example.org/service/pdp")}}
	id, err := spiffeid.FromCertificate(cert)
	if err != nil || id.Service() != "pdp" {
		t.Fatalf("FromCertificate = %v, %v", id, err)
	}
	if _, err := spiffeid.FromCertificate(&x509.Certificate{}); !errors.Is(err, spiffeid.ErrNoIdentity) {
		t.Fatalf("no URI: %v", err)
	}
	two := &x509.Certificate{URIs: []*url.URL{u("spiffe://example.org/service/a"), u("spiffe://example.org/service/b")}}
	if _, err := spiffeid.FromCertificate(two); !errors.Is(err, spiffeid.ErrMultipleIdentities) {
		t.Fatalf("two identities: %v", err)
	}
	cs := &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	if id, err := spiffeid.FromConnectionState(cs); err != nil || id.Service() != "pdp" {
		t.Fatalf("FromConnectionState = %v %v", id, err)
	}
	if _, err := spiffeid.FromConnectionState(nil); !errors.Is(err, spiffeid.ErrNoIdentity) {
		t.Fatalf("nil state: %v", err)
	}
}
