package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// TestUpServesCARPC: `verdict up` serves CertificateAuthorityService on
// the ca-rpc endpoint with the same mutual TLS as the REST API; `verdict
// ca ... --rpc --config` administers the CA through it (info, join token
// redeemed by bootstrap, revoke), gRPC clients reach it too, and a client
// without a certificate may not issue.
func TestUpServesCARPC(t *testing.T) {
	t.Parallel()
	p := startUp(t)
	// Contract 5's printed lines stay as they are: the RPC endpoint is in
	// verdict.yaml only.
	if u, ok := p.endpoints["ca-rpc"]; ok {
		t.Fatalf("up printed a ca-rpc line (%q): contract 5 lists the printed endpoints", u)
	}
	cfg, err := loadPlatformConfig(p.config)
	if err != nil {
		t.Fatal(err)
	}
	rpcURL := cfg.Endpoints["ca-rpc"]
	if !strings.HasPrefix(rpcURL, "https://127.0.0.1:") {
		t.Fatalf("verdict.yaml ca-rpc: %q, want https://127.0.0.1:PORT", rpcURL)
	}

	var rest, rpc struct {
		Fingerprint string `json:"root_fingerprint"`
		TrustDomain string `json:"trust_domain"`
	}
	code, out, errOut := p.cli(t, "ca", "info", "--output", "json")
	if code != 0 {
		t.Fatalf("ca info: exit %d %s %s", code, out, errOut)
	}
	decodeJSON(t, out, &rest)
	code, out, errOut = p.cli(t, "ca", "info", "--rpc", "--output", "json")
	if code != 0 {
		t.Fatalf("ca info --rpc: exit %d %s %s", code, out, errOut)
	}
	decodeJSON(t, out, &rpc)
	if rpc != rest || rpc.TrustDomain != upTD {
		t.Fatalf("ca info over RPC %+v, over REST %+v", rpc, rest)
	}

	// A join token created over RPC is redeemed by bootstrap (REST join).
	code, out, errOut = p.cli(t, "ca", "token", "create", "--rpc", "--service", "rpc-joined", "--output", "json")
	if code != 0 {
		t.Fatalf("ca token create --rpc: exit %d %s %s", code, out, errOut)
	}
	var tok struct {
		Token       string `json:"token"`
		Identity    string `json:"identity"`
		Fingerprint string `json:"root_fingerprint"`
		URL         string `json:"ca_url"`
	}
	decodeJSON(t, out, &tok)
	if tok.URL != p.endpoints["ca"] || tok.Identity != "spiffe://verdict.local/service/rpc-joined" {
		t.Fatalf("token over RPC: %+v", tok)
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), &cliEnv{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr},
		[]string{"ca", "bootstrap", "--url", tok.URL, "--token", tok.Token, "--fingerprint", tok.Fingerprint,
			"--service", "rpc-joined", "--out", dir, "--output", "json"}); code != 0 {
		t.Fatalf("ca bootstrap: exit %d %s %s", code, stdout.String(), stderr.String())
	}
	var joined struct {
		Serial string `json:"serial"`
	}
	decodeJSON(t, stdout.String(), &joined)
	if code, out, errOut := p.cli(t, "ca", "revoke", "--rpc", "--serial", joined.Serial, "--reason", "keyCompromise"); code != 0 || !strings.Contains(out, "revoked "+joined.Serial) {
		t.Fatalf("ca revoke --rpc: exit %d %s %s", code, out, errOut)
	}
	// What the RPC API lacks is refused, not dropped.
	if code, out, errOut := p.cli(t, "ca", "token", "create", "--rpc", "--service", "x", "--host", "127.0.0.1"); code != 2 || !strings.Contains(errOut, "only in the REST API") {
		t.Fatalf("ca token create --rpc --host: exit %d %s %s", code, out, errOut)
	}

	// gRPC (HTTP/2) with the admin certificate; a client without one may
	// not issue.
	admin, err := tlsconfig.LoadFiles(p.adminFiles())
	if err != nil {
		t.Fatal(err)
	}
	caID := tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(upTD, "ca")))
	tc := tlsconfig.ClientConfig(admin, caID)
	tc.NextProtos = []string{"h2"}
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}}
	grpcClient := verdictv1connect.NewCertificateAuthorityServiceClient(h2, rpcURL, connect.WithGRPC())
	info, err := grpcClient.Info(t.Context(), connect.NewRequest(&verdictv1.InfoRequest{}))
	if err != nil || info.Msg.GetTrustDomain() != upTD {
		t.Fatalf("gRPC Info: %v %v", info, err)
	}
	roots := x509.NewCertPool()
	for _, c := range admin.Bundle().Certificates() {
		roots.AddCert(c)
	}
	anonymous := verdictv1connect.NewCertificateAuthorityServiceClient(&http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}}}, rpcURL)
	if _, err := anonymous.NewCert(t.Context(), connect.NewRequest(&verdictv1.NewCertRequest{Service: "intruder", Profile: verdictv1.CertificateProfile_CERTIFICATE_PROFILE_CLIENT})); err == nil {
		t.Fatal("the CA's RPC API issued to a client without a certificate")
	} else if c := connect.CodeOf(err); c != connect.CodeUnauthenticated && c != connect.CodePermissionDenied {
		t.Fatalf("anonymous NewCert: %v (code %v), want unauthenticated or permission denied", err, c)
	}
}
