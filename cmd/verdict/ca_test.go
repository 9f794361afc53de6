package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"connectrpc.com/connect"
	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509svid"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// caLogBuffer collects the serving command's log while the test reads it.
type caLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *caLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *caLogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listeningCA = regexp.MustCompile(`msg=listening ca=(\S+) rpc=(\S+)`)

// serveCA runs `verdict ca serve` until the test ends and returns the bound
// addresses of the HTTPS API and the RPC listener ("off" without --rpc).
func serveCA(t *testing.T, args ...string) (addr, rpc string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &caLogBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &cliEnv{stdin: strings.NewReader(""), stdout: logs, stderr: logs}, append([]string{"ca", "serve"}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("ca serve exited %d:\n%s", code, logs)
			}
		case <-time.After(15 * time.Second):
			t.Error("ca serve did not stop")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listeningCA.FindStringSubmatch(logs.String()); m != nil {
			return m[1], m[2]
		}
		select {
		case code := <-done:
			t.Fatalf("ca serve exited %d:\n%s", code, logs)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no listening line:\n%s", logs)
	return "", ""
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
}

func TestCACommandsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, "", "ca", "init", "--dir", dir, "--output", "json")
	if code != 0 {
		t.Fatalf("init exit %d: %s", code, errOut)
	}
	var initOut struct {
		Fingerprint string `json:"root_fingerprint"`
		AdminKey    string `json:"admin_key_file"`
		AdminMinted bool   `json:"admin_minted"`
	}
	decodeJSON(t, out, &initOut)
	if !initOut.AdminMinted || len(initOut.Fingerprint) != 64 {
		t.Fatalf("init output %s", out)
	}
	if st, err := os.Stat(initOut.AdminKey); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin key %v mode %v", err, st)
	}
	admin, err := x509svid.Load(filepath.Join(dir, "admin.pem"), initOut.AdminKey)
	if err != nil {
		t.Fatal(err)
	}
	if admin.ID.String() != "spiffe://verdict.local/service/admin" {
		t.Fatalf("admin identity %s", admin.ID)
	}
	// A second init keeps the credentials it already has.
	if code, out, _ := runCLI(t, "", "ca", "init", "--dir", dir, "--output", "json"); code != 0 || strings.Contains(out, `"admin_minted": true`) {
		t.Fatalf("second init exit %d: %s", code, out)
	}

	natsURL := natstest.URL(t)
	addr, rpcAddr := serveCA(t, "--dir", dir, "--listen", "127.0.0.1:0", "--rpc", "127.0.0.1:0", "--nats", natsURL, "--lifetime", "1h")
	cfg := filepath.Join(dir, "verdict.yaml")
	raw, err := os.ReadFile(cfg)
	if err != nil || !strings.Contains(string(raw), "https://"+addr) {
		t.Fatalf("verdict.yaml: %v\n%s", err, raw)
	}
	if !strings.Contains(string(raw), "ca-rpc: https://"+rpcAddr) {
		t.Fatalf("verdict.yaml lacks the ca-rpc endpoint:\n%s", raw)
	}
	if code, out, errOut := runCLI(t, "", "ca", "info", "--rpc", "--config", cfg); code != 0 || !strings.Contains(out, "trust domain: verdict.local") {
		t.Fatalf("ca info --rpc: exit %d %s %s", code, out, errOut)
	}

	code, out, errOut = runCLI(t, "", "ca", "token", "create", "--config", cfg, "--service", "web", "--ttl", "5m", "--output", "json")
	if code != 0 {
		t.Fatalf("token create exit %d: %s", code, errOut)
	}
	var tok struct {
		Token       string    `json:"token"`
		Identity    string    `json:"identity"`
		ExpiresAt   time.Time `json:"expires_at"`
		Fingerprint string    `json:"root_fingerprint"`
		URL         string    `json:"ca_url"`
	}
	decodeJSON(t, out, &tok)
	if !strings.HasPrefix(tok.Token, "vjt_") || tok.Fingerprint != initOut.Fingerprint || tok.URL != "https://"+addr ||
		time.Until(tok.ExpiresAt) > 5*time.Minute || tok.Identity != "spiffe://verdict.local/service/web" {
		t.Fatalf("token output %s", out)
	}

	outDir := t.TempDir()
	boot := []string{"ca", "bootstrap", "--url", tok.URL, "--token", tok.Token, "--fingerprint", tok.Fingerprint, "--service", "web", "--out", outDir, "--output", "json"}
	code, out, errOut = runCLI(t, "", boot...)
	if code != 0 {
		t.Fatalf("bootstrap exit %d: %s", code, errOut)
	}
	var booted struct {
		Identity string `json:"identity"`
		Serial   string `json:"serial"`
		Cert     string `json:"cert_file"`
		Key      string `json:"key_file"`
	}
	decodeJSON(t, out, &booted)
	web, err := x509svid.Load(booted.Cert, booted.Key)
	if err != nil {
		t.Fatal(err)
	}
	if web.ID.String() != booted.Identity || web.Leaf().SerialNumber.String() != booted.Serial {
		t.Fatalf("bootstrap wrote %s %s, reported %s", web.ID, web.Leaf().SerialNumber, out)
	}
	if left := time.Until(web.Leaf().NotAfter); left > time.Hour || left < 50*time.Minute {
		t.Fatalf("--lifetime 1h gave a certificate valid for another %s", left)
	}
	if code, _, errOut := runCLI(t, "", boot...); code != 1 || !strings.Contains(errOut, "join token") {
		t.Fatalf("second redemption exit %d: %s", code, errOut)
	}
	wrongPin := append([]string(nil), boot...)
	wrongPin[7] = strings.Repeat("ab", 32)
	if code, _, _ := runCLI(t, "", wrongPin...); code != 1 {
		t.Fatalf("bootstrap with a wrong fingerprint exit %d", code)
	}

	// Revocation reaches NATS subscribers (any PDP, the PAP) at once.
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	set := revocation.NewSet()
	sub, err := revocation.Subscribe(t.Context(), nc, set)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	code, out, errOut = runCLI(t, "", "ca", "revoke", "--serial", booted.Serial, "--reason", "keyCompromise",
		"--ca-url", tok.URL, "--cert", filepath.Join(dir, "admin.pem"), "--key", initOut.AdminKey, "--ca-file", filepath.Join(dir, "root.pem"))
	if code != 0 || !strings.Contains(out, booted.Serial) {
		t.Fatalf("revoke exit %d: %s%s", code, out, errOut)
	}
	serial, _ := new(big.Int).SetString(booted.Serial, 10)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if e, ok := set.Lookup(serial); ok {
			if e.Reason != 1 {
				t.Fatalf("event reason %d", e.Reason)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("revocation event not received")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _, errOut := runCLI(t, "", "ca", "revoke", "--config", cfg, "--serial", "123456789"); code != 2 {
		t.Fatalf("revoke of an unknown serial exit %d: %s", code, errOut)
	}

	code, out, errOut = runCLI(t, "", "ca", "info", "--config", cfg, "--output", "json")
	if code != 0 {
		t.Fatalf("info exit %d: %s", code, errOut)
	}
	var info struct {
		TrustDomain string `json:"trust_domain"`
		Fingerprint string `json:"root_fingerprint"`
	}
	decodeJSON(t, out, &info)
	if info.TrustDomain != "verdict.local" || info.Fingerprint != initOut.Fingerprint {
		t.Fatalf("info %s", out)
	}
	if code, out, _ := runCLI(t, "", "ca", "info", "--config", cfg); code != 0 || !strings.Contains(out, initOut.Fingerprint) {
		t.Fatalf("info text exit %d: %s", code, out)
	}

	// The typed API answers on --rpc, authorizing the admin certificate.
	src, err := tlsconfig.LoadFiles(tlsconfig.Files{Cert: filepath.Join(dir, "admin.pem"), Key: initOut.AdminKey, Bundle: filepath.Join(dir, "root.pem")})
	if err != nil {
		t.Fatal(err)
	}
	rc := verdictv1connect.NewCertificateAuthorityServiceClient(tlsconfig.HTTPClient(src, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must("verdict.local", "ca")))), "https://"+rpcAddr)
	rinfo, err := rc.Info(t.Context(), connect.NewRequest(&verdictv1.InfoRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if rinfo.Msg.GetRootFingerprintSha256() != initOut.Fingerprint || rinfo.Msg.GetCrlUrl() != "https://"+addr+"/crl" {
		t.Fatalf("rpc info %v", rinfo.Msg)
	}
	if _, err := rc.CreateJoinToken(t.Context(), connect.NewRequest(&verdictv1.CreateJoinTokenRequest{Service: "api"})); err != nil {
		t.Fatalf("rpc token as admin: %v", err)
	}

	// A certificate that is not an administrator's is refused.
	if code, _, errOut := runCLI(t, "", "ca", "token", "create", "--service", "api", "--ca-url", tok.URL,
		"--cert", booted.Cert, "--key", booted.Key, "--ca-file", filepath.Join(outDir, "root.pem")); code == 0 {
		t.Fatalf("token created with a revoked, non-admin certificate: %s", errOut)
	}
}

func TestCACommandUsage(t *testing.T) {
	cases := [][]string{
		{"ca", "init"},
		{"ca", "token"},
		{"ca", "token", "create", "--ca-url", "https://127.0.0.1:1"},
		{"ca", "token", "create", "--service", "web", "--config", filepath.Join(t.TempDir(), "missing.yaml")},
		{"ca", "revoke", "--config", "x"},
		{"ca", "revoke", "--serial", "zz", "--config", "x"},
		{"ca", "bootstrap", "--url", "https://x"},
		{"ca", "info", "--output", "yaml"},
		{"ca", "bootstrap", "--url", "https://x", "--token", "t", "--fingerprint", "f", "--service", "Bad_Name", "--out", "d"},
	}
	for _, args := range cases {
		if code, _, errOut := runCLI(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, errOut)
		}
	}
}
