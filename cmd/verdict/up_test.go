package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/ocsp"

	"github.com/verdict-authz/verdict/pdp/bundlesource"
	"github.com/verdict-authz/verdict/pki/caapi"
	"github.com/verdict-authz/verdict/pki/caclient"
	"github.com/verdict-authz/verdict/pki/natsauth"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// upTD is the trust domain `verdict up` uses by default.
const upTD = caDefaultTD

// adminFiles are the administrator credentials verdict.yaml names.
func (p *upPlatform) adminFiles() tlsconfig.Files {
	return tlsconfig.Files{Cert: filepath.Join(p.dir, "admin.pem"), Key: filepath.Join(p.dir, "admin-key.pem"),
		Bundle: filepath.Join(p.dir, "ca", "root.pem")}
}

// issue has the platform's CA certify a new key for service, with the
// administrator's credentials (CFSSL newcert).
func (p *upPlatform) issue(t *testing.T, service string) *tlsconfig.Source {
	t.Helper()
	admin, err := tlsconfig.LoadFiles(p.adminFiles())
	if err != nil {
		t.Fatal(err)
	}
	c, err := caclient.New(p.endpoints["ca"], caclient.WithSource(admin))
	if err != nil {
		t.Fatal(err)
	}
	svid, bundle, err := c.NewCert(context.Background(), caapi.NewCertRequest{Service: service, Profile: "client"})
	if err != nil {
		t.Fatalf("newcert %s: %v", service, err)
	}
	src, err := tlsconfig.NewSource(svid, bundle)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// natsAs connects to the platform's NATS as service, with a certificate
// the CA issued for it; violations collects the permission errors the
// server reports.
func (p *upPlatform) natsAs(t *testing.T, service string) *nats.Conn {
	nc, _ := p.natsWithViolations(t, service)
	return nc
}

type violations struct {
	mu   sync.Mutex
	errs []string
}

func (v *violations) add(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, err.Error())
}

// waitFor waits until a violation of subject (or of a subject starting
// with it) was reported.
func (v *violations) waitFor(t *testing.T, what, subject string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		v.mu.Lock()
		for _, e := range v.errs {
			if strings.Contains(e, `"`+subject) {
				v.mu.Unlock()
				return
			}
		}
		v.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: no permissions violation for %q reported; got %v", what, subject, v.errs)
}

func (p *upPlatform) natsWithViolations(t *testing.T, service string) (*nats.Conn, *violations) {
	t.Helper()
	src := p.issue(t, service)
	v := &violations{}
	nc, err := nats.Connect(p.endpoints["nats"],
		nats.Secure(tlsconfig.ClientConfig(src, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(upTD, "nats"))))),
		nats.CustomInboxPrefix(natsauth.InboxPrefix(service)),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { v.add(err) }))
	if err != nil {
		t.Fatalf("nats as %s: %v", service, err)
	}
	t.Cleanup(nc.Close)
	return nc, v
}

// authzenEval posts a Todo evaluation that the example policy permits.
func authzenEval(hc *http.Client, base string) (string, error) {
	body := `{"subject":{"type":"user","id":"CiRmZDA2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},"action":{"name":"can_create_todo"},"resource":{"type":"todo","id":"1","properties":{"ownerID":"x"}}}`
	resp, err := hc.Post(base+"/access/v1/evaluation", "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	return string(got), err
}

// TestUpMutualTLS checks contract 5 with the CA: the printed schemes, the
// files, an AuthZEN evaluation with the admin certificate, and that
// clients without a certificate are refused by every server.
func TestUpMutualTLS(t *testing.T) {
	t.Parallel()
	p := startUp(t)
	for name, prefix := range map[string]string{"nats": "tls://", "pap": "https://", "pdp-http": "https://", "ca": "https://", "audit": "https://"} {
		if !strings.HasPrefix(p.endpoints[name], prefix+"127.0.0.1:") {
			t.Errorf("%s: %q, want %s127.0.0.1:PORT", name, p.endpoints[name], prefix)
		}
	}
	data, err := os.ReadFile(p.config)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ca_file: ca/root.pem", "cert_file: admin.pem", "key_file: admin-key.pem", "ca: " + p.endpoints["ca"]} {
		if !strings.Contains(string(data), want) {
			t.Errorf("verdict.yaml lacks %q:\n%s", want, data)
		}
	}
	for _, key := range []string{"admin-key.pem", filepath.Join("ca", "root-key.pem")} {
		if fi, err := os.Stat(filepath.Join(p.dir, key)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v", key, err, fi.Mode())
		}
	}
	admin, err := x509svid.Load(p.adminFiles().Cert, p.adminFiles().Key)
	if err != nil || admin.ID.String() != "spiffe://verdict.local/service/admin" {
		t.Fatalf("admin certificate: %v %v", admin, err)
	}

	// The administrator evaluates over AuthZEN with the files of verdict.yaml.
	cfg, err := loadPlatformConfig(p.config)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := cfg.httpClient()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := authzenEval(hc, p.endpoints["pdp-http"]); err != nil || !strings.Contains(got, `"decision":true`) {
		t.Fatalf("evaluation with the admin certificate: %s %v", got, err)
	}
	code, out, errOut := p.cli(t, "audit", "query", "--service", "authzen-todo", "--output", "json")
	if code != 0 {
		t.Fatalf("audit query: exit %d %s %s", code, out, errOut)
	}
	if code, out, errOut := p.cli(t, "ca", "info"); code != 0 || !strings.Contains(out, "trust domain: verdict.local") {
		t.Fatalf("ca info: exit %d %s %s", code, out, errOut)
	}

	// Servers staple a good OCSP response from the platform's CA.
	for _, name := range []string{"pap", "pdp-http", "audit"} {
		tc, err := cfg.tlsConfig()
		if err != nil {
			t.Fatal(err)
		}
		addr := strings.TrimPrefix(p.endpoints[name], "https://")
		conn, err := tls.Dial("tcp", addr, tc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cs := conn.ConnectionState()
		_ = conn.Close()
		if len(cs.OCSPResponse) == 0 {
			t.Errorf("%s staples no OCSP response", name)
			continue
		}
		resp, err := ocsp.ParseResponseForCert(cs.OCSPResponse, cs.PeerCertificates[0], cs.VerifiedChains[0][1])
		if err != nil || resp.Status != ocsp.Good {
			t.Errorf("%s staple: %v, status %v", name, err, resp)
		}
	}

	// The platform's own components work within their NATS permissions.
	if strings.Contains(p.stderr.String(), "Permissions Violation") {
		t.Errorf("a component of verdict up was refused by NATS:\n%s", p.stderr.String())
	}

	// Without a client certificate, every server refuses.
	roots := x509.NewCertPool()
	root, err := os.ReadFile(p.adminFiles().Bundle)
	if err != nil || !roots.AppendCertsFromPEM(root) {
		t.Fatal("root.pem", err)
	}
	noCert := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	for _, name := range []string{"pap", "pdp-http", "audit"} {
		if got, err := authzenEval(noCert, p.endpoints[name]); err == nil {
			t.Errorf("%s answered a client without a certificate: %s", name, got)
		}
	}
	// The CA lets anonymous clients join and fetch OCSP, but not issue.
	if resp, err := noCert.Post(p.endpoints["ca"]+"/api/v1/cfssl/newcert", "application/json", strings.NewReader(`{"service":"x"}`)); err == nil {
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("CA newcert without a certificate: %s", resp.Status)
		}
	}
	plainURL := "nats://" + strings.TrimPrefix(p.endpoints["nats"], "tls://")
	if nc, err := nats.Connect(plainURL, nats.Timeout(3*time.Second)); err == nil {
		nc.Close()
		t.Error("NATS accepted a plaintext client")
	}
	if nc, err := nats.Connect(p.endpoints["nats"], nats.Secure(&tls.Config{RootCAs: roots, ServerName: "localhost"}), nats.Timeout(3*time.Second)); err == nil {
		nc.Close()
		t.Error("NATS accepted a TLS client without a certificate")
	}
}

// TestUpNATSPermissions proves the identity mapping of the embedded NATS:
// the PDP of one service reads its own bundles and none of another's, and
// publishes only its own status and decision subjects.
func TestUpNATSPermissions(t *testing.T) {
	t.Parallel()
	// Every bundle goes through its service's Object Store bucket: the
	// platform's own PDP reads authzen-todo's under its permissions.
	p := startUp(t, "--bundle-inline-limit", "1024")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc, v := p.natsWithViolations(t, "medical")
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	subjects := bundlesource.Subjects{}
	// wait bounds each attempt: a refused request gets no reply at all.
	read := func(subject string, wait time.Duration) (jetstream.Msg, error) {
		ctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		cons, err := js.OrderedConsumer(ctx, bundlesource.DefaultStream, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy})
		if err != nil {
			return nil, err
		}
		return cons.Next(jetstream.FetchMaxWait(wait))
	}
	// Its own bundle stream: readable, and the message is medical's bundle.
	msg, err := read(subjects.Bundle("medical"), 5*time.Second)
	if err != nil {
		t.Fatalf("medical cannot read its own bundles: %v", err)
	}
	ptr, err := bundlesource.ParsePointer(msg.Data())
	if msg.Subject() != "verdict.bundle.medical" || err != nil || ptr.Bucket != "verdict-bundles-medical" {
		t.Fatalf("got %s: %v %+v", msg.Subject(), err, ptr)
	}
	own, err := js.ObjectStore(ctx, ptr.Bucket)
	if err != nil {
		t.Fatalf("medical cannot open its bucket: %v", err)
	}
	if data, err := own.GetBytes(ctx, ptr.Object); err != nil || int64(len(data)) != ptr.Size {
		t.Fatalf("medical cannot read its large bundle: %d bytes, %v", len(data), err)
	}
	for _, e := range v.errs {
		t.Fatalf("reading its own bundles caused a violation: %s", e)
	}
	// Another service's: no consumer, no direct get, no core subscription.
	other := subjects.Bundle("authzen-todo")
	if msg, err := read(other, time.Second); err == nil {
		t.Fatalf("medical read authzen-todo's bundle: %s", msg.Subject())
	}
	v.waitFor(t, "consumer on another service's bundles", "$JS.API.CONSUMER.CREATE.VERDICT_BUNDLES.")
	if st, err := js.Stream(ctx, bundlesource.DefaultStream); err != nil {
		t.Fatalf("stream info: %v", err)
	} else {
		short, cancel := context.WithTimeout(ctx, time.Second)
		if m, err := st.GetLastMsgForSubject(short, other); err == nil {
			t.Fatalf("direct get of authzen-todo's bundle: %s", m.Subject)
		}
		cancel()
		v.waitFor(t, "direct get", "$JS.API.DIRECT.GET.VERDICT_BUNDLES."+other)
		short, cancel = context.WithTimeout(ctx, time.Second)
		if _, err := st.GetMsg(short, 1); err == nil {
			t.Fatal("medical read a bundle stream message by sequence")
		}
		cancel()
	}
	short, cancelShort := context.WithTimeout(ctx, time.Second)
	if _, err := js.ObjectStore(short, "verdict-bundles-authzen-todo"); err == nil {
		t.Fatal("medical opened authzen-todo's bucket")
	}
	cancelShort()
	v.waitFor(t, "another service's bucket", "$JS.API.STREAM.INFO.OBJ_verdict-bundles-authzen-todo")
	if _, err := nc.SubscribeSync(other); err != nil {
		t.Fatal(err)
	}
	v.waitFor(t, "core subscription", other)
	if _, err := nc.SubscribeSync("_INBOX.>"); err != nil {
		t.Fatal(err)
	}
	v.waitFor(t, "other clients' replies", "_INBOX.>")
	// Publishing: its own status and decisions, nobody else's, no bundles.
	for _, s := range []string{"verdict.status.authzen-todo.fake", "verdict.decisions.authzen-todo", "verdict.bundle.medical", "verdict.revocation"} {
		if err := nc.Publish(s, []byte("{}")); err != nil {
			t.Fatal(err)
		}
		v.waitFor(t, "publish", s)
	}
	before := len(v.errs)
	if err := nc.Publish("verdict.status.medical.test", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if err := nc.FlushTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !nc.IsConnected() || len(v.errs) != before {
		t.Fatalf("publishing its own status was refused: %v", v.errs[before:])
	}
}

// TestUpRevokedAdminRefused revokes the administrator's certificate with
// `verdict ca revoke`: the PAP and the PDP refuse it at once, connections
// already open included; a restart reuses the CA and mints a new admin
// certificate.
func TestUpRevokedAdminRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p, stop := startUpIn(t, dir)
	cfg, err := loadPlatformConfig(p.config)
	if err != nil {
		t.Fatal(err)
	}
	hc, err := cfg.httpClient()
	if err != nil {
		t.Fatal(err)
	}
	// Open connections first: they must be cut too.
	if got, err := authzenEval(hc, p.endpoints["pdp-http"]); err != nil || !strings.Contains(got, `"decision":true`) {
		t.Fatalf("evaluation before revocation: %s %v", got, err)
	}
	if code, _, errOut := p.cli(t, "policy", "list", "--service", "authzen-todo"); code != 0 {
		t.Fatalf("policy list before revocation: %s", errOut)
	}
	// A workload's NATS connection, cut when its certificate is revoked.
	orders := p.issue(t, "orders")
	nc, err := nats.Connect(p.endpoints["nats"],
		nats.Secure(tlsconfig.ClientConfig(orders, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(upTD, "nats"))))),
		nats.CustomInboxPrefix(natsauth.InboxPrefix("orders")), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Relying parties outside the process (SDK PDPs) hear revocations on NATS.
	heard := revocation.NewSet()
	sub, err := revocation.Subscribe(context.Background(), p.natsAs(t, "billing"), heard)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	admin, err := x509svid.Load(p.adminFiles().Cert, p.adminFiles().Key)
	if err != nil {
		t.Fatal(err)
	}
	serial := admin.Leaf().SerialNumber.String()
	// A second administrator revokes the first (revoking one's own
	// certificate cuts the connection that carries the answer).
	second := p.issue(t, "admin").SVID()
	files := tlsconfig.Files{Cert: filepath.Join(t.TempDir(), "admin2.pem"), Key: filepath.Join(t.TempDir(), "admin2-key.pem"), Bundle: p.adminFiles().Bundle}
	if err := second.WriteFiles(files.Cert, files.Key); err != nil {
		t.Fatal(err)
	}
	var rout, rerr bytes.Buffer
	code := run(context.Background(), &cliEnv{stdin: strings.NewReader(""), stdout: &rout, stderr: &rerr}, []string{"ca", "revoke",
		"--ca-url", p.endpoints["ca"], "--cert", files.Cert, "--key", files.Key, "--ca-file", files.Bundle, "--serial", serial, "--reason", "keyCompromise"})
	if code, out, errOut := code, rout.String(), rerr.String(); code != 0 || out != "revoked "+serial+"\n" {
		t.Fatalf("ca revoke: exit %d %q %q\n%s", code, out, errOut, p.stderr.String())
	}
	if got, err := authzenEval(hc, p.endpoints["pdp-http"]); err == nil {
		t.Fatalf("the PDP still answers the revoked admin: %s", got)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, ok := heard.Lookup(admin.Leaf().SerialNumber); ok {
			break
		}
	}
	if _, ok := heard.Lookup(admin.Leaf().SerialNumber); !ok {
		t.Fatal("no revocation event on NATS")
	}
	if code, out, errOut := p.cli(t, "ca", "revoke", "--serial", orders.SVID().Leaf().SerialNumber.String()); code == 0 {
		t.Fatalf("the CA still answers the revoked admin: %s", out)
	} else if _, err := caclientRevoke(files, p.endpoints["ca"], orders.SVID().Leaf()); err != nil {
		t.Fatalf("revoking the workload certificate: %v (%s)", err, errOut)
	}
	deadline := time.Now().Add(10 * time.Second)
	for nc.IsConnected() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if nc.IsConnected() {
		t.Fatal("the NATS connection of a revoked certificate is still open")
	}
	if err := nc.Publish("verdict.status.orders.x", nil); err == nil && nc.FlushTimeout(time.Second) == nil {
		t.Fatal("the revoked workload reconnected to NATS")
	}
	if code, _, errOut := p.cli(t, "policy", "list", "--service", "authzen-todo"); code == 0 {
		t.Fatalf("the PAP still answers the revoked admin")
	} else if !strings.Contains(errOut, "revoked") && !strings.Contains(errOut, "certificate") {
		t.Logf("policy list refused: %s", errOut)
	}
	if !strings.Contains(p.stderr.String(), "revoked") {
		t.Errorf("no log line names the revoked certificate:\n%s", p.stderr.String())
	}
	root, err := os.ReadFile(filepath.Join(dir, "ca", "root.pem"))
	if err != nil {
		t.Fatal(err)
	}

	// A restart keeps the CA and replaces the revoked admin certificate.
	stop()
	p, _ = startUpIn(t, dir)
	again, err := os.ReadFile(filepath.Join(dir, "ca", "root.pem"))
	if err != nil || !bytes.Equal(root, again) {
		t.Fatalf("the CA root changed across a restart (%v)", err)
	}
	fresh, err := x509svid.Load(p.adminFiles().Cert, p.adminFiles().Key)
	if err != nil || fresh.Leaf().SerialNumber.String() == serial {
		t.Fatalf("admin certificate not replaced: %v", err)
	}
	if code, _, errOut := p.cli(t, "policy", "list", "--service", "authzen-todo"); code != 0 {
		t.Fatalf("policy list with the new admin certificate: %s", errOut)
	}
}

// caclientRevoke revokes leaf with the administrator credentials in files.
func caclientRevoke(files tlsconfig.Files, url string, leaf *x509.Certificate) (bool, error) {
	src, err := tlsconfig.LoadFiles(files)
	if err != nil {
		return false, err
	}
	c, err := caclient.New(url, caclient.WithSource(src))
	if err != nil {
		return false, err
	}
	return true, c.Revoke(context.Background(), leaf.SerialNumber, "keyCompromise")
}

// TestUpInsecurePlaintextLoopbackOnly: the opt-out is refused off loopback.
func TestUpInsecurePlaintextLoopbackOnly(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), &cliEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut},
		[]string{"up", "--data-dir", t.TempDir(), "--insecure-plaintext", "--pap", "0.0.0.0:0"})
	if code != 2 || !strings.Contains(errOut.String(), "loopback") {
		t.Fatalf("exit %d, %q", code, errOut.String())
	}
}
