package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pip"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// Revision 1 permits admins, revision 2 denies everyone. Roles come from
// the request or, as in compiled policies, from verdict.pip, which replay
// answers from the record; a failed PIP fetch is Indeterminate.
const replayModule = `package verdict.main

import rego.v1

subj := "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"

roles := x if {
	x := input.a[subj].roles.string
} else := x if {
	x := verdict.pip(subj, "roles", "string", "")
}

result := {"d": "IP", "s": "urn:oasis:names:tc:xacml:1.0:status:processing-error", "o": [], "a": []} if {
	not roles
} else := {"d": "P", "o": [], "a": []} if {
	"admin" in roles
	input.a[subj].rev.string[0] == "%d"
} else := {"d": "D", "o": [], "a": []}
`

// Revision 3 reads an attribute no recorded decision fetched.
const deptModule = `package verdict.main

import rego.v1

result := {"d": "P", "o": [], "a": []} if {
	"sales" in verdict.pip("urn:oasis:names:tc:xacml:1.0:subject-category:access-subject", "dept", "string", "")
} else := {"d": "D", "o": [], "a": []}
`

type policies map[int64]*pdp.Policy

func (p policies) Policy(_ context.Context, service string, rev int64) (*pdp.Policy, error) {
	if pol, ok := p[rev]; ok && service == "orders" {
		return pol, nil
	}
	return nil, fmt.Errorf("%w: revision %d", audit.ErrNotFound, rev)
}

func testPolicies() policies {
	out := policies{}
	for _, rev := range []int64{1, 2} {
		out[rev] = &pdp.Policy{Service: "orders", Revision: uint64(rev), Modules: map[string]string{"main.rego": fmt.Sprintf(replayModule, 1)}}
	}
	out[2].Modules["main.rego"] = fmt.Sprintf(replayModule, 99)
	out[3] = &pdp.Policy{Service: "orders", Revision: 3, Modules: map[string]string{"main.rego": deptModule}}
	return out
}

func storeRecords(t *testing.T, st audit.Store, recs ...decisionlog.Record) {
	t.Helper()
	var es []audit.Entry
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		e, err := audit.NewEntry(b)
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	if _, err := st.Append(t.Context(), es); err != nil {
		t.Fatal(err)
	}
}

func adminDecision() decisionlog.Record {
	r := decision("orders", 1)
	r.Revision = 1
	r.Request = append(r.Request, pdp.Attribute{Category: pdp.CategorySubject, ID: "rev", Values: []pdp.Value{{Type: "string", Lexical: "1"}}})
	r.PIPValues = []pip.Record{{Source: "users", Category: pdp.CategorySubject, Key: "user1", Values: pip.Values{"roles": {"admin"}}}}
	r.Masked = []decisionlog.MaskedField{{Path: "subject/email", Action: decisionlog.MaskHash}}
	return r
}

func TestServiceOverConnectAndGRPC(t *testing.T) {
	st := openStore(t)
	signer := newSigner(t)
	cpFile := audit.NewCheckpointFile(filepath.Join(t.TempDir(), "cp.jsonl"))
	failed := decision("orders", 20)
	failed.DecisionID, failed.Revision = "orders-pipdown", 1
	failed.PIPValues = []pip.Record{{Source: "users", Category: pdp.CategorySubject, Key: "user0", Attributes: []string{"roles"}, Error: "pip source users: connection refused"}}
	failed.Effect, failed.Extended, failed.Status = pdp.EffectIndeterminate, "P", pdp.Status{Code: pdp.StatusProcessingError}
	notFetched := failed
	notFetched.DecisionID, notFetched.PIPValues = "orders-nopip", nil
	recs := []decisionlog.Record{adminDecision(), failed, notFetched}
	for i := 2; i < 12; i++ {
		r := decision("orders", i)
		if i%2 == 0 {
			r.Effect = pdp.EffectDeny
		}
		r.Time = time.Now().Add(-time.Duration(i) * time.Minute)
		recs = append(recs, r)
	}
	storeRecords(t, st, recs...)
	head, _ := st.Count(t.Context(), "orders")
	var last audit.Entry
	_ = st.Scan(t.Context(), "orders", func(e audit.Entry) error { last = e; return nil })
	if err := cpFile.Append(signer.Sign("orders", audit.Link{Seq: head, Hash: last.Hash}, time.Now())); err != nil {
		t.Fatal(err)
	}
	svc := audit.NewService(st, audit.NewKeys(signer.PublicKey()), cpFile, testPolicies(), nil)

	mux := http.NewServeMux()
	mux.Handle(svc.ConnectHandler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	client := verdictv1connect.NewAuditServiceClient(hs.Client(), hs.URL)

	// Query: deny decisions, paged by 3.
	var got int
	req := &verdictv1.QueryRequest{Service: "orders", Decision: verdictv1.Decision_DECISION_DENY, PageSize: 3}
	for {
		resp, err := client.Query(t.Context(), connect.NewRequest(req))
		if err != nil {
			t.Fatal(err)
		}
		got += len(resp.Msg.GetRecords())
		if resp.Msg.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.Msg.GetNextPageToken()
	}
	if got != 5 {
		t.Fatalf("deny query returned %d records, want 5", got)
	}
	sub, err := client.Query(t.Context(), connect.NewRequest(&verdictv1.QueryRequest{SubjectId: "user1", PageSize: 100}))
	if err != nil || len(sub.Msg.GetRecords()) != 2 {
		t.Fatalf("subject query: %v, %d records", err, len(sub.Msg.GetRecords()))
	}

	// Get.
	g, err := client.Get(t.Context(), connect.NewRequest(&verdictv1.AuditServiceGetRequest{DecisionId: "orders-0000001"}))
	if err != nil {
		t.Fatal(err)
	}
	rec := g.Msg.GetRecord()
	if rec.GetResult().GetDecision() != verdictv1.Decision_DECISION_PERMIT || rec.GetChainSequence() != 1 || len(rec.GetPipFetches()) != 1 || len(rec.GetMaskedFields()) != 1 {
		t.Fatalf("record %v", rec)
	}
	if _, err := client.Get(t.Context(), connect.NewRequest(&verdictv1.AuditServiceGetRequest{DecisionId: "nope"})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("missing record: %v", err)
	}

	// Replay against the recorded revision reproduces the decision, with
	// the role coming from the recorded PIP values; revision 2 changes it.
	same, err := client.Replay(t.Context(), connect.NewRequest(&verdictv1.ReplayRequest{DecisionId: "orders-0000001"}))
	if err != nil {
		t.Fatal(err)
	}
	if same.Msg.GetDecisionChanged() || len(same.Msg.GetDifferences()) != 0 || same.Msg.GetReplayedRevision() != 1 || !same.Msg.GetInputsMasked() {
		t.Fatalf("replay at the recorded revision: %v", same.Msg)
	}
	other, err := client.Replay(t.Context(), connect.NewRequest(&verdictv1.ReplayRequest{DecisionId: "orders-0000001", Revision: 2}))
	if err != nil {
		t.Fatal(err)
	}
	if !other.Msg.GetDecisionChanged() || other.Msg.GetReplayed().GetDecision() != verdictv1.Decision_DECISION_DENY || len(other.Msg.GetDifferences()) == 0 {
		t.Fatalf("replay at revision 2: %v", other.Msg)
	}

	// A decision made while the PIP failed replays as the same failure
	// (Indeterminate), not as a decision on a missing attribute, which is
	// what the same request gives when the record holds no failure.
	down, err := client.Replay(t.Context(), connect.NewRequest(&verdictv1.ReplayRequest{DecisionId: "orders-pipdown"}))
	if err != nil {
		t.Fatal(err)
	}
	if down.Msg.GetDecisionChanged() || down.Msg.GetReplayed().GetDecision() != verdictv1.Decision_DECISION_INDETERMINATE || len(down.Msg.GetDifferences()) != 0 {
		t.Fatalf("replay of a PIP failure: %v", down.Msg)
	}
	// Another revision needing an attribute the record lacks says so.
	dept, err := client.Replay(t.Context(), connect.NewRequest(&verdictv1.ReplayRequest{DecisionId: "orders-pipdown", Revision: 3}))
	if err != nil {
		t.Fatal(err)
	}
	if d := dept.Msg.GetDifferences(); len(d) == 0 || !strings.Contains(d[len(d)-1].GetField(), "dept of user0 (source users)") || d[len(d)-1].GetRecorded() != "not fetched" {
		t.Fatalf("replay needing an unrecorded attribute: %v", dept.Msg)
	}
	missing, err := client.Replay(t.Context(), connect.NewRequest(&verdictv1.ReplayRequest{DecisionId: "orders-nopip"}))
	if err != nil {
		t.Fatal(err)
	}
	if missing.Msg.GetReplayed().GetDecision() != verdictv1.Decision_DECISION_DENY || !missing.Msg.GetDecisionChanged() {
		t.Fatalf("replay without the recorded failure: %v", missing.Msg)
	}

	// Verify: intact, then detects truncation through the checkpoint file.
	v, err := client.Verify(t.Context(), connect.NewRequest(&verdictv1.VerifyRequest{}))
	if err != nil || !v.Msg.GetIntact() || len(v.Msg.GetChains()) != 1 {
		t.Fatalf("verify: %v %v", err, v.Msg)
	}
	if _, err := st.DB().ExecContext(t.Context(), `DELETE FROM decisions WHERE seq = ?`, head); err != nil {
		t.Fatal(err)
	}
	v, err = client.Verify(t.Context(), connect.NewRequest(&verdictv1.VerifyRequest{Service: "orders"}))
	if err != nil {
		t.Fatal(err)
	}
	if v.Msg.GetIntact() || v.Msg.GetChains()[0].GetProblems()[0].GetKind() != verdictv1.ChainProblemKind_CHAIN_PROBLEM_KIND_TRUNCATED {
		t.Fatalf("truncation not reported: %v", v.Msg)
	}

	// Changes without a change source is unimplemented, not a crash.
	if _, err := client.Changes(t.Context(), connect.NewRequest(&verdictv1.ChangesRequest{})); connect.CodeOf(err) != connect.CodeUnimplemented {
		t.Fatalf("changes: %v", err)
	}

	// The same service over gRPC.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	svc.RegisterGRPC(gs)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	gc := verdictv1.NewAuditServiceClient(conn)
	if _, err := gc.Get(t.Context(), &verdictv1.AuditServiceGetRequest{DecisionId: "orders-0000001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := gc.Get(t.Context(), &verdictv1.AuditServiceGetRequest{DecisionId: "nope"}); status.Code(err) != codes.NotFound {
		t.Fatalf("grpc missing record: %v", err)
	}
	if _, err := gc.Query(t.Context(), &verdictv1.QueryRequest{PageToken: "%%%"}); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("grpc bad token: %v", err)
	}
}
