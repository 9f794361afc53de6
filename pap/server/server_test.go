package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	papserver "github.com/verdict-authz/verdict/pap/server"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

func TestPushPublishesAndPDPsConverge(t *testing.T) {
	p := startPAP(t)
	ctx := context.Background()
	todo, err := os.ReadFile(filepath.Join("..", "..", "policies", "authzen-todo", "todo.xml"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.client.Push(ctx, connect.NewRequest(&verdictv1.PushRequest{
		Service: "todo",
		Sources: []*verdictv1.PolicySource{{Path: "todo.xml", Content: todo}, {Path: "todo_test.yaml", Content: []byte("tests: []\n")}},
		Message: "first",
	}))
	if err != nil {
		t.Fatal(err)
	}
	rev := resp.Msg.GetRevision()
	if rev.GetNumber() != 1 || rev.GetAuthor() != papserver.Anonymous || rev.GetRootPolicyId() != "urn:verdict:policies:authzen-todo" ||
		rev.GetRootPolicyKind() != verdictv1.PolicyKind_POLICY_KIND_POLICY || rev.GetSourceCount() != 2 || rev.GetMessage() != "first" {
		t.Fatalf("revision = %v", rev)
	}
	src := p.pdp("todo", "pdp-1")
	if src.Revision() != 1 || src.Digest() != rev.GetDigest() {
		t.Fatalf("PDP on %d %s, want 1 %s", src.Revision(), src.Digest(), rev.GetDigest())
	}

	// The rollout view counts the PDP once its heartbeat arrives.
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := p.client.RolloutStatus(ctx, connect.NewRequest(&verdictv1.RolloutStatusRequest{Service: "todo", IncludeInstances: true}))
		if err != nil {
			t.Fatal(err)
		}
		r := st.Msg.GetRollout()
		if r.GetLiveCount() == 1 && r.GetComplete() {
			if r.GetActiveCount() != 1 || r.GetRevision() != 1 || r.GetDigest() != rev.GetDigest() ||
				len(r.GetInstances()) != 1 || r.GetInstances()[0].GetInstanceId() != "pdp-1" {
				t.Fatalf("rollout = %v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollout never saw the PDP: %v", r)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A second push: WatchRollout ends when the PDP reports it.
	resp, err = p.client.Push(ctx, connect.NewRequest(&verdictv1.PushRequest{Service: "todo", Sources: sources("todo.xml", string(todo)+"\n")}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Msg.GetRevision().GetNumber() != 2 {
		t.Fatalf("second push stored revision %d", resp.Msg.GetRevision().GetNumber())
	}
	watchCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	stream, err := p.client.WatchRollout(watchCtx, connect.NewRequest(&verdictv1.WatchRolloutRequest{Service: "todo", Revision: 2}))
	if err != nil {
		t.Fatal(err)
	}
	var last *verdictv1.Rollout
	for stream.Receive() {
		last = stream.Msg().GetRollout()
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if last == nil || !last.GetComplete() || last.GetActiveCount() != 1 || last.GetRevision() != 2 {
		t.Fatalf("last rollout update = %v", last)
	}
	if src.Revision() != 2 {
		t.Fatalf("PDP on %d after the rollout completed", src.Revision())
	}

	// List, newest first, with paging.
	list, err := p.client.List(ctx, connect.NewRequest(&verdictv1.ListRequest{Service: "todo", PageSize: 1}))
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Msg.GetRevisions()) != 1 || list.Msg.GetRevisions()[0].GetNumber() != 2 || list.Msg.GetNextPageToken() == "" {
		t.Fatalf("first page = %v", list.Msg)
	}
	list, err = p.client.List(ctx, connect.NewRequest(&verdictv1.ListRequest{Service: "todo", PageToken: list.Msg.GetNextPageToken()}))
	if err != nil || len(list.Msg.GetRevisions()) != 1 || list.Msg.GetRevisions()[0].GetNumber() != 1 || list.Msg.GetNextPageToken() != "" {
		t.Fatalf("second page = %v, %v", list.Msg, err)
	}

	// Get returns the sources exactly as pushed, and the compiled Rego.
	got, err := p.client.Get(ctx, connect.NewRequest(&verdictv1.PolicyAdminServiceGetRequest{Service: "todo", Revision: 1, IncludeCompiled: true}))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Msg.GetSources()) != 2 || string(got.Msg.GetSources()[0].GetContent()) != string(todo) || len(got.Msg.GetCompiledModules()) == 0 {
		t.Fatalf("get = %d sources, %d modules", len(got.Msg.GetSources()), len(got.Msg.GetCompiledModules()))
	}
}

func TestRefusedPushStoresNothingAndNamesFileLineElement(t *testing.T) {
	p := startPAP(t)
	ctx := context.Background()
	bad := `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="p" Version="1.0"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides">
  <Target/>
  <Rule RuleId="r" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:example:no-such-function"/>
    </Condition>
  </Rule>
</Policy>
`
	req := &verdictv1.PushRequest{Service: "orders", Sources: sources("dir/bad.xml", bad)}
	_, err := p.client.Push(ctx, connect.NewRequest(req))
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument {
		t.Fatalf("Push = %v, want InvalidArgument", err)
	}
	diags := validationFailure(t, ce)
	if len(diags) == 0 || diags[0].GetPath() != "dir/bad.xml" || diags[0].GetLine() != 6 || diags[0].GetElement() == "" ||
		!strings.Contains(diags[0].GetMessage(), "unknown function") {
		t.Fatalf("diagnostics = %v", diags)
	}
	if _, err := p.client.List(ctx, connect.NewRequest(&verdictv1.ListRequest{Service: "orders"})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("List after a refused push = %v, want NotFound (nothing stored)", err)
	}

	// The same refusal over gRPC, with the same detail.
	_, err = p.grpc.Push(ctx, req)
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || len(st.Details()) != 1 {
		t.Fatalf("gRPC Push = %v (%d details)", err, len(st.Details()))
	}
	if f, ok := st.Details()[0].(*verdictv1.PolicyValidationFailure); !ok || f.GetDiagnostics()[0].GetLine() != 6 {
		t.Fatalf("gRPC detail = %v", st.Details()[0])
	}

	for name, srcs := range map[string][]*verdictv1.PolicySource{
		"no files":       nil,
		"unsafe path":    sources("../x.yaml", string(policy("p", "Permit"))),
		"duplicate":      sources("a.yaml", string(policy("p", "Permit")), "a.yaml", string(policy("q", "Permit"))),
		"pdp config":     sources("pdp.yaml", "listen: {}\n"),
		"two roots":      sources("a.yaml", string(policy("p", "Permit")), "b.yaml", string(policy("q", "Permit"))),
		"only tests":     sources("a_test.yaml", "tests: []\n"),
		"yaml syntax":    sources("a.yaml", "policy: [\n"),
		"duplicate ids":  sources("a.yaml", string(policy("p", "Permit")), "b.yaml", string(policy("p", "Deny"))),
		"bad UTF-8 path": {{Path: "a\xff.yaml", Content: policy("p", "Permit")}},
		"failing test":   sources("a.yaml", string(policy("p", "Deny")), "a_test.yaml", failingTest),
		"test with file": sources("a.yaml", string(policy("p", "Deny")), "a_test.yaml", "pips: [{category: subject, key: id, file: users.json}]\ntests: []\n"),
	} {
		_, err := p.grpc.Push(ctx, &verdictv1.PushRequest{Service: "orders", Sources: srcs})
		if status.Code(err) != codes.InvalidArgument && status.Code(err) != codes.Internal {
			t.Errorf("%s: Push = %v, want InvalidArgument", name, err)
		}
	}
	if _, err := p.grpc.List(ctx, &verdictv1.ListRequest{Service: "orders"}); status.Code(err) != codes.NotFound {
		t.Fatalf("List after refused pushes = %v, want NotFound", err)
	}
}

func validationFailure(t *testing.T, ce *connect.Error) []*verdictv1.Diagnostic {
	t.Helper()
	for _, d := range ce.Details() {
		v, err := d.Value()
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := v.(*verdictv1.PolicyValidationFailure); ok {
			return f.GetDiagnostics()
		}
	}
	t.Fatalf("no PolicyValidationFailure in %v", ce)
	return nil
}

func TestValidateStoresNothing(t *testing.T) {
	p := startPAP(t)
	ctx := context.Background()
	resp, err := p.client.Validate(ctx, connect.NewRequest(&verdictv1.ValidateRequest{Service: "orders", Sources: sources("a.yaml", string(policy("urn:a", "Permit")))}))
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Msg.GetValid() || resp.Msg.GetRootPolicyId() != "urn:a" {
		t.Fatalf("validate = %v", resp.Msg)
	}
	resp, err = p.client.Validate(ctx, connect.NewRequest(&verdictv1.ValidateRequest{Service: "orders", Sources: sources("a.yaml", "policy: [\n")}))
	if err != nil || resp.Msg.GetValid() || len(resp.Msg.GetDiagnostics()) == 0 || resp.Msg.GetDiagnostics()[0].GetPath() != "a.yaml" {
		t.Fatalf("validate of a broken policy = %v, %v", resp.Msg, err)
	}
	if _, err := p.client.List(ctx, connect.NewRequest(&verdictv1.ListRequest{Service: "orders"})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("List after Validate = %v, want NotFound", err)
	}
}

func TestDiffAndRollback(t *testing.T) {
	p := startPAP(t)
	ctx := context.Background()
	push := func(srcs ...string) *verdictv1.Revision {
		t.Helper()
		resp, err := p.grpc.Push(ctx, &verdictv1.PushRequest{Service: "orders", Sources: sources(srcs...)})
		if err != nil {
			t.Fatal(err)
		}
		return resp.GetRevision()
	}
	ref := "policyset: urn:root\ncombining: first-applicable\npolicies:\n  - policy_ref: urn:a\n"
	r1 := push("root.yaml", ref, "a.yaml", string(policy("urn:a", "Permit")))
	push("root.yaml", ref, "a.yaml", string(policy("urn:a", "Deny")), "notes_test.yaml", "tests: []\n")
	src := p.pdp("orders", "pdp-1")
	waitRevision(t, src, 2)

	d, err := p.client.Diff(ctx, connect.NewRequest(&verdictv1.DiffRequest{Service: "orders", FromRevision: 1, ToRevision: 2}))
	if err != nil {
		t.Fatal(err)
	}
	files := d.Msg.GetFiles()
	if len(files) != 2 || files[0].GetPath() != "a.yaml" || files[0].GetChange() != verdictv1.ChangeType_CHANGE_TYPE_MODIFIED ||
		!strings.Contains(files[0].GetUnifiedDiff(), "-    effect: Permit\n+    effect: Deny\n") ||
		files[1].GetChange() != verdictv1.ChangeType_CHANGE_TYPE_ADDED {
		t.Fatalf("files = %v", files)
	}
	pols := d.Msg.GetPolicies()
	if len(pols) != 1 || pols[0].GetPolicy().GetId() != "urn:a" || pols[0].GetChange() != verdictv1.ChangeType_CHANGE_TYPE_MODIFIED || d.Msg.GetRootChanged() {
		t.Fatalf("policies = %v, root changed %t", pols, d.Msg.GetRootChanged())
	}
	// Against sources not pushed yet.
	d, err = p.client.Diff(ctx, connect.NewRequest(&verdictv1.DiffRequest{Service: "orders", ToSources: sources("b.yaml", string(policy("urn:b", "Permit")))}))
	if err != nil {
		t.Fatal(err)
	}
	if !d.Msg.GetRootChanged() || d.Msg.GetTo() != nil || d.Msg.GetFrom().GetNumber() != 2 || len(d.Msg.GetFiles()) != 4 {
		t.Fatalf("diff with sources = %v", d.Msg)
	}

	rb, err := p.client.Rollback(ctx, connect.NewRequest(&verdictv1.RollbackRequest{Service: "orders", ToRevision: 1}))
	if err != nil {
		t.Fatal(err)
	}
	r3 := rb.Msg.GetRevision()
	if r3.GetNumber() != 3 || r3.GetRestoredFromRevision() != 1 || r3.GetDigest() != r1.GetDigest() || r3.GetParentRevision() != 2 ||
		r3.GetRootPolicyKind() != verdictv1.PolicyKind_POLICY_KIND_POLICY_SET {
		t.Fatalf("rollback revision = %v (revision 1 digest %s)", r3, r1.GetDigest())
	}
	waitRevision(t, src, 3)
	if src.Digest() != r1.GetDigest() {
		t.Fatalf("PDP digest after rollback %s, want revision 1's %s", src.Digest(), r1.GetDigest())
	}
	if _, err := p.client.Rollback(ctx, connect.NewRequest(&verdictv1.RollbackRequest{Service: "orders", ToRevision: 1, ExpectedParentRevision: 2})); connect.CodeOf(err) != connect.CodeFailedPrecondition {
		t.Fatalf("rollback on a stale parent = %v, want FailedPrecondition", err)
	}
	if _, err := p.client.Rollback(ctx, connect.NewRequest(&verdictv1.RollbackRequest{Service: "orders", ToRevision: 9})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("rollback to a missing revision = %v, want NotFound", err)
	}
}

func TestRolloutNamesStragglers(t *testing.T) {
	p := startPAP(t)
	ctx := context.Background()
	if _, err := p.grpc.Push(ctx, &verdictv1.PushRequest{Service: "orders", Sources: sources("a.yaml", string(policy("urn:a", "Permit")))}); err != nil {
		t.Fatal(err)
	}
	good := p.pdp("orders", "good")
	waitRevision(t, good, 1)
	resp, err := p.grpc.Push(ctx, &verdictv1.PushRequest{Service: "orders", Sources: sources("a.yaml", string(policy("urn:a", "Deny")))})
	if err != nil {
		t.Fatal(err)
	}
	waitRevision(t, good, 2)

	// A fake PDP stuck on revision 1 with an error, speaking the
	// heartbeat protocol directly.
	hb := `{"service":"orders","instance":"stuck","revision":1,"digest":"sha256:x","last_error":"bundle: bad signature","time":"2025-01-01T00:00:00Z","interval_ms":100}`
	stopBeats := make(chan struct{})
	defer close(stopBeats)
	nc := p.connect()
	go func() {
		for {
			_ = nc.Publish(p.prefix+".status.orders.stuck", []byte(hb))
			select {
			case <-stopBeats:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := p.grpc.RolloutStatus(ctx, &verdictv1.RolloutStatusRequest{Service: "orders", Revision: resp.GetRevision().GetNumber()})
		if err != nil {
			t.Fatal(err)
		}
		r := st.GetRollout()
		if r.GetLiveCount() == 2 {
			if r.GetComplete() || r.GetActiveCount() != 1 || len(r.GetStragglers()) != 1 ||
				r.GetStragglers()[0].GetInstanceId() != "stuck" || r.GetStragglers()[0].GetLastError() != "bundle: bad signature" {
				t.Fatalf("rollout = %v", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rollout = %v, want 2 live PDPs", r)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Once its heartbeats stop, it is gone after three missed intervals.
	stopBeats <- struct{}{}
	deadline = time.Now().Add(5 * time.Second)
	for {
		st, err := p.grpc.RolloutStatus(ctx, &verdictv1.RolloutStatusRequest{Service: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		if r := st.GetRollout(); r.GetLiveCount() == 1 && r.GetComplete() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the silent PDP is still live: %v", st.GetRollout())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestPlaintextOnlyOnLoopback(t *testing.T) {
	if _, err := papserver.New(nil, nil); err == nil {
		t.Fatal("New without a store succeeded")
	}
	srv := newBareServer(t, papserver.WithInsecurePlaintext())
	err := srv.Serve(context.Background(), fakeListener{addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 80}}, nil)
	if !errors.Is(err, papserver.ErrPlaintextNotLoopback) {
		t.Fatalf("Serve on a non-loopback address = %v, want ErrPlaintextNotLoopback", err)
	}
}

// fakeListener reports an address without listening on it.
type fakeListener struct{ addr net.Addr }

func (fakeListener) Accept() (net.Conn, error) { return nil, errors.New("fake") }
func (fakeListener) Close() error              { return nil }
func (l fakeListener) Addr() net.Addr          { return l.addr }

func TestAuthorIsTheClientCertificateIdentity(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, _ := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, client bool, uri string) tls.Certificate {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature}
		if client {
			u, _ := url.Parse(uri)
			tmpl.URIs = []*url.URL{u}
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		} else {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
		der, _ := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{issue(2, false, "")}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv := newBareServer(t, papserver.WithTLS(serverTLS))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	defer func() { stop(); <-done }()

	const id = "spiffe://verdict.test/user/alice"
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{issue(3, true, id)}}}}
	c := verdictv1connect.NewPolicyAdminServiceClient(client, "https://"+ln.Addr().String())
	resp, err := c.Push(context.Background(), connect.NewRequest(&verdictv1.PushRequest{Service: "orders", Sources: sources("a.yaml", string(policy("urn:a", "Permit")))}))
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Msg.GetRevision().GetAuthor(); got != id {
		t.Fatalf("author = %q, want %q", got, id)
	}
}

// failingTest expects Permit from a policy that denies.
const failingTest = `tests:
  - name: expects permit
    request:
      subject: {type: user, id: alice}
      action: {name: read}
      resource: {type: doc, id: "1"}
    decision: Permit
`

func TestValidateRunsPolicyTests(t *testing.T) {
	p := startPAP(t)
	ctx := context.Background()
	passing := strings.Replace(failingTest, "decision: Permit", "decision: Deny", 1)
	res, err := p.grpc.Validate(ctx, &verdictv1.ValidateRequest{Service: "orders", Sources: sources("a.yaml", string(policy("p", "Deny")), "a_test.yaml", passing)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.GetValid() || res.GetTestsPassed() != 1 {
		t.Fatalf("validate = %v", res)
	}
	res, err = p.grpc.Validate(ctx, &verdictv1.ValidateRequest{Service: "orders", Sources: sources("a.yaml", string(policy("p", "Deny")), "a_test.yaml", failingTest)})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetValid() || len(res.GetDiagnostics()) != 1 || res.GetDiagnostics()[0].GetPhase() != verdictv1.DiagnosticPhase_DIAGNOSTIC_PHASE_TEST || !strings.Contains(res.GetDiagnostics()[0].GetMessage(), "expects permit") {
		t.Fatalf("a failing policy test must refuse the push: %v", res)
	}
}
