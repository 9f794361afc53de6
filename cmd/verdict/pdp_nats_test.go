package main

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/integration/mtlstest"
	"github.com/verdict-authz/verdict/pki/natsauth"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// TestPDPNATSIdentityFollowsRenewal: the NATS client identity of pdp serve
// (bundle.tls, decision_log.tls) carries the certificate's inbox prefix,
// is shared by both connections, and presents a renewed certificate
// written over the files without a restart.
func TestPDPNATSIdentityFollowsRenewal(t *testing.T) {
	authority := mtlstest.NewCA(t)
	dir := t.TempDir()
	tc := &natsTLSConfig{Cert: filepath.Join(dir, "pdp.pem"), Key: filepath.Join(dir, "pdp-key.pem"),
		CA: filepath.Join(dir, "root.pem"), Reload: 20 * time.Millisecond}
	first := authority.SVID(t, "web", 0)
	if err := first.WriteFiles(tc.Cert, tc.Key); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tc.CA, x509svid.EncodeCertificates(authority.SourceOf(t, first).Bundle().Certificates()), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &runningPDP{}
	t.Cleanup(func() { _ = p.Close() })
	opts, src, err := p.natsOptions(t.Context(), tc, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	_, again, err := p.natsOptions(t.Context(), tc, discardLogger())
	if err != nil || again != src {
		t.Fatalf("the decision log's connection does not share the bundle's identity: %v", err)
	}
	o := nats.GetDefaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			t.Fatal(err)
		}
	}
	if o.InboxPrefix != natsauth.InboxPrefix("web") || o.TLSConfig == nil || !o.Secure {
		t.Fatalf("options: inbox %q, tls %v", o.InboxPrefix, o.TLSConfig != nil)
	}
	presented := func() string {
		t.Helper()
		c, err := o.TLSConfig.GetClientCertificate(&tls.CertificateRequestInfo{})
		if err != nil || len(c.Certificate) == 0 {
			t.Fatalf("client certificate: %v", err)
		}
		return string(c.Certificate[0])
	}
	before := presented()
	if before != string(first.Leaf().Raw) {
		t.Fatal("the first certificate is not the one presented")
	}
	renewed := authority.SVID(t, "web", 0)
	if err := renewed.WriteFiles(tc.Cert, tc.Key); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for presented() != string(renewed.Leaf().Raw) {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate was never presented")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
