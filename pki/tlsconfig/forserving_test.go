package tlsconfig_test

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"testing"

	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

func TestForHTTPServing(t *testing.T) {
	in := &tls.Config{ClientCAs: x509.NewCertPool(), ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS10, NextProtos: []string{"acme-tls/1"}}
	out := tlsconfig.ForHTTPServing(in)
	if out.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("client CAs named but ClientAuth %v", out.ClientAuth)
	}
	if out.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x, want TLS 1.2", out.MinVersion)
	}
	if !slices.Equal(out.NextProtos, []string{"h2", "acme-tls/1", "http/1.1"}) {
		t.Errorf("NextProtos %v", out.NextProtos)
	}
	if in.ClientAuth != tls.VerifyClientCertIfGiven || in.MinVersion != tls.VersionTLS10 || len(in.NextProtos) != 1 {
		t.Errorf("the caller's configuration was modified: %+v", in)
	}
	// Without client CAs, client authentication is left as configured.
	if got := tlsconfig.ForHTTPServing(&tls.Config{MinVersion: tls.VersionTLS13}); got.ClientAuth != tls.NoClientCert || got.MinVersion != tls.VersionTLS13 {
		t.Errorf("no client CAs: ClientAuth %v, MinVersion %x", got.ClientAuth, got.MinVersion)
	}
}
