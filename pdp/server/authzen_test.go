package server_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/server"
)

func TestEvaluation(t *testing.T) {
	r := start(t)
	tests := []struct {
		name     string
		body     obj
		decision bool
		xacml    string // xacml_decision under context; "" means no context
	}{
		{"permit", obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1")}, true, ""},
		{"deny", obj{"subject": subject("bob"), "action": action("write"), "resource": resource("record-1")}, false, "Deny"},
		{"resource property denies", obj{"subject": subject("alice"), "action": action("write"), "resource": resource("record-2", "status", "archived")}, false, "Deny"},
		{"subject property permits", obj{"subject": subject("bob", "role", "admin"), "action": action("write"), "resource": resource("record-2", "status", "archived")}, true, ""},
		{"action property permits", obj{"subject": subject("alice"), "action": action("delete", "soft", true), "resource": resource("record-1")}, true, ""},
		{"action property denies", obj{"subject": subject("alice"), "action": action("delete", "soft", false), "resource": resource("record-1")}, false, "Deny"},
		{"pip supplies the role", obj{"subject": subject("carol"), "action": action("write"), "resource": resource("record-2")}, true, ""},
		{"pip supplies the status", obj{"subject": subject("alice"), "action": action("write"), "resource": obj{"type": "record", "id": "record-2"}}, false, "Deny"},
		{"not applicable", obj{"subject": subject("alice"), "action": action("na"), "resource": resource("record-1")}, false, "NotApplicable"},
		{"indeterminate", obj{"subject": subject("alice"), "action": action("boom"), "resource": resource("record-1")}, false, "Indeterminate"},
		{"context and extra members", obj{
			"subject":  obj{"type": "user", "id": "alice", "department": "sales", "properties": obj{"nested": obj{"a": []any{1, 2.5, obj{"b": "c"}}}, "none": nil}},
			"action":   obj{"name": "read", "properties": obj{"method": "GET"}},
			"resource": resource("record-1", "owner", "bob", "big", 27.50),
			"context":  obj{"time": "2025-06-27T18:03-07:00", "ip": "192.168.1.1"},
			"foo":      "bar", "futureField": obj{"nested": true},
		}, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := post(t, r.base+server.PathEvaluation, tc.body)
			if got.status != http.StatusOK {
				t.Fatalf("status %d: %s", got.status, got.raw)
			}
			if got.body["decision"] != tc.decision {
				t.Fatalf("decision = %v, want %v: %s", got.body["decision"], tc.decision, got.raw)
			}
			ctx, hasCtx := got.body["context"].(map[string]any)
			if tc.xacml == "" {
				if hasCtx {
					t.Fatalf("a plain permit has no context: %s", got.raw)
				}
				return
			}
			if !hasCtx || ctx["xacml_decision"] != tc.xacml {
				t.Fatalf("context.xacml_decision = %v, want %s: %s", ctx["xacml_decision"], tc.xacml, got.raw)
			}
			if ctx["decision_id"] == "" || ctx["reason_admin"] == nil {
				t.Errorf("context lacks decision_id or reason_admin: %s", got.raw)
			}
			if tc.xacml == "Indeterminate" {
				st, _ := ctx["status"].(map[string]any)
				if st["code"] != pdp.StatusProcessingError {
					t.Errorf("status = %v, want processing-error", ctx["status"])
				}
			}
		})
	}
}

func TestEvaluationDenyCarriesAdvice(t *testing.T) {
	r := start(t)
	got := post(t, r.base+server.PathEvaluation, obj{"subject": subject("bob"), "action": action("write"), "resource": resource("record-1")})
	ctx := got.body["context"].(map[string]any)
	advice, _ := ctx["advice"].([]any)
	if len(advice) != 1 || !strings.Contains(string(got.raw), `"value":"not allowed"`) {
		t.Fatalf("advice of the deny missing: %s", got.raw)
	}
}

func TestEvaluations(t *testing.T) {
	r := start(t)
	tests := []struct {
		name string
		body obj
		want []any
	}{
		{"defaults and order", obj{
			"subject": subject("bob"), "resource": resource("record-1"),
			"evaluations": []any{obj{"action": action("read")}, obj{"action": action("write")}},
		}, []any{true, false}},
		{"no defaults", obj{"evaluations": []any{
			obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1")},
			obj{"subject": subject("bob"), "action": action("write"), "resource": resource("record-1")},
		}}, []any{true, false}},
		{"per-item properties", obj{
			"subject": subject("alice"), "action": action("write"),
			"evaluations": []any{obj{"resource": resource("record-1", "status", "active")}, obj{"resource": resource("record-2", "status", "archived")}},
		}, []any{true, false}},
		{"per-item subjects", obj{
			"action": action("write"), "resource": resource("record-2", "status", "archived"),
			"evaluations": []any{obj{"subject": subject("alice")}, obj{"subject": subject("bob", "role", "admin")}},
		}, []any{false, true}},
		{"required members fall back to the default", obj{
			"subject": subject("alice"), "action": action("write"), "resource": obj{"type": "record"},
			"evaluations": []any{
				obj{"resource": obj{"id": "record-1", "properties": obj{"status": "active"}}},
				obj{"resource": resource("record-2", "status", "archived")},
			},
		}, []any{true, false}},
		{"an item entity replaces the default whole", obj{
			"subject": subject("bob", "role", "admin"), "action": action("write"), "resource": resource("record-1"),
			"evaluations": []any{obj{}, obj{"subject": obj{"id": "bob"}}},
		}, []any{true, false}},
		{"context inheritance", obj{
			"subject": subject("alice"), "action": action("read"), "context": obj{"time": "2025-06-27T18:03-07:00"},
			"evaluations": []any{obj{"resource": resource("record-1")}, obj{"resource": resource("record-2"), "context": obj{"source": "override"}}},
		}, []any{true, true}},
		{"deny_on_first_deny", obj{
			"subject": subject("alice"), "resource": resource("record-2", "status", "archived"),
			"options":     obj{"evaluations_semantic": "deny_on_first_deny"},
			"evaluations": []any{obj{"action": action("read")}, obj{"action": action("write")}, obj{"action": action("read")}},
		}, []any{true, false}},
		{"permit_on_first_permit", obj{
			"subject": subject("alice"), "resource": resource("record-2", "status", "archived"),
			"options":     obj{"evaluations_semantic": "permit_on_first_permit"},
			"evaluations": []any{obj{"action": action("write")}, obj{"action": action("read")}, obj{"action": action("write")}},
		}, []any{false, true}},
		{"execute_all", obj{
			"subject": subject("alice"), "resource": resource("record-2", "status", "archived"),
			"options":     obj{"evaluations_semantic": "execute_all", "other_option": 1},
			"evaluations": []any{obj{"action": action("write")}, obj{"action": action("read")}, obj{"action": action("write")}},
		}, []any{false, true, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := post(t, r.base+server.PathEvaluations, tc.body)
			if got.status != http.StatusOK {
				t.Fatalf("status %d: %s", got.status, got.raw)
			}
			if d := decisions(t, got); !reflect.DeepEqual(d, tc.want) {
				t.Fatalf("decisions = %v, want %v: %s", d, tc.want, got.raw)
			}
			if _, ok := got.body["decision"]; ok {
				t.Errorf("a batch response has no top-level decision: %s", got.raw)
			}
		})
	}
}

func TestEvaluationsItemError(t *testing.T) {
	r := start(t)
	got := post(t, r.base+server.PathEvaluations, obj{
		"subject": subject("alice"), "action": action("read"),
		"evaluations": []any{obj{"resource": resource("record-1")}, obj{}},
	})
	if got.status != http.StatusOK {
		t.Fatalf("status %d: %s", got.status, got.raw)
	}
	if d := decisions(t, got); !reflect.DeepEqual(d, []any{true, false}) {
		t.Fatalf("decisions = %v: %s", d, got.raw)
	}
	if !strings.Contains(string(got.raw), `"message":"evaluations[1].resource is required"`) {
		t.Errorf("item error does not name the item and member: %s", got.raw)
	}
	// deny_on_first_deny stops at a failed item too.
	got = post(t, r.base+server.PathEvaluations, obj{
		"subject": subject("alice"), "action": action("read"), "options": obj{"evaluations_semantic": "deny_on_first_deny"},
		"evaluations": []any{obj{}, obj{"resource": resource("record-1")}},
	})
	if d := decisions(t, got); !reflect.DeepEqual(d, []any{false}) {
		t.Fatalf("decisions = %v: %s", d, got.raw)
	}
}

func TestEvaluationsWithoutItemsIsSingle(t *testing.T) {
	r := start(t)
	for _, items := range []any{nil, []any{}} {
		body := obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1")}
		if items != nil {
			body["evaluations"] = items
		}
		got := post(t, r.base+server.PathEvaluations, body)
		if got.status != http.StatusOK || got.body["decision"] != true {
			t.Fatalf("evaluations=%v: status %d: %s", items, got.status, got.raw)
		}
	}
	got := post(t, r.base+server.PathEvaluations, obj{"subject": subject("alice"), "action": action("read")})
	if got.status != http.StatusBadRequest {
		t.Fatalf("a single evaluation without resource: status %d, want 400", got.status)
	}
}

func TestRequestID(t *testing.T) {
	r := start(t)
	ok := obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1")}
	for _, tc := range []struct {
		name, path, method, body string
		status                   int
	}{
		{"success", server.PathEvaluation, http.MethodPost, `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"r","id":"1"}}`, 200},
		{"bad request", server.PathEvaluation, http.MethodPost, `{"subject": `, 400},
		{"wrong method", server.PathEvaluation, http.MethodGet, ``, 405},
		{"unknown path", "/nope", http.MethodGet, ``, 404},
		{"metadata", server.PathMetadata, http.MethodGet, ``, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, r.base+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Request-ID", "req-7f3a")
			got := do(t, http.DefaultClient, req)
			if got.status != tc.status {
				t.Fatalf("status %d, want %d: %s", got.status, tc.status, got.raw)
			}
			if id := got.header.Get("X-Request-ID"); id != "req-7f3a" {
				t.Fatalf("X-Request-ID = %q", id)
			}
			if tc.status >= 400 && got.body["error"] == nil {
				t.Fatalf("error response without a JSON error: %s", got.raw)
			}
		})
	}
	got := post(t, r.base+server.PathEvaluation, ok, "X-Request-ID", "")
	if got.header.Get("X-Request-ID") == "" {
		t.Fatal("no X-Request-ID generated")
	}
}

func TestBadInput(t *testing.T) {
	r := start(t)
	valid := `"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}`
	huge := `{` + valid + `,"context":{"pad":"` + strings.Repeat("x", server.DefaultMaxRequestBytes) + `"}}`
	var batch strings.Builder
	batch.WriteString(`{` + valid + `,"evaluations":[`)
	for i := range 10000 {
		if i > 0 {
			batch.WriteByte(',')
		}
		batch.WriteString(`{}`)
	}
	batch.WriteString(`]}`)
	tests := []struct {
		name, path, contentType, body string
		status                        int
		msg                           string
	}{
		{"malformed JSON", server.PathEvaluation, "", `{"subject": `, 400, "malformed JSON"},
		{"syntax error", server.PathEvaluation, "", `{"subject": {"type": "user",, }}`, 400, "malformed JSON: invalid character"},
		{"empty body", server.PathEvaluation, "", ``, 400, "request body is empty"},
		{"not an object", server.PathEvaluation, "", `[1, 2]`, 400, "must be a JSON object, got an array"},
		{"trailing data", server.PathEvaluation, "", `{` + valid + `} {}`, 400, "unexpected data after the top-level value"},
		{"wrong content type", server.PathEvaluation, "text/plain", `{` + valid + `}`, 400, "Content-Type must be application/json"},
		{"form content type", server.PathEvaluation, "application/x-www-form-urlencoded", `{` + valid + `}`, 400, "Content-Type must be application/json"},
		{"subject is a string", server.PathEvaluation, "", `{"subject":"alice","action":{"name":"read"},"resource":{"type":"record","id":"1"}}`, 400, "subject must be an object, got a string"},
		{"action is a number", server.PathEvaluation, "", `{"subject":"x","action":1}`, 400, "must be an object"},
		{"action.name is a number", server.PathEvaluation, "", `{"subject":{"type":"user","id":"alice"},"action":{"name":123},"resource":{"type":"record","id":"1"}}`, 400, "action.name must be a string, got a number"},
		{"subject.id is a bool", server.PathEvaluation, "", `{"subject":{"type":"user","id":true},"action":{"name":"read"},"resource":{"type":"record","id":"1"}}`, 400, "subject.id must be a string, got a boolean"},
		{"properties is an array", server.PathEvaluation, "", `{"subject":{"type":"user","id":"alice","properties":[1]},"action":{"name":"read"},"resource":{"type":"record","id":"1"}}`, 400, "subject.properties must be an object"},
		{"context is a string", server.PathEvaluation, "", `{` + valid + `,"context":"now"}`, 400, "context must be an object"},
		{"number out of range", server.PathEvaluation, "", `{"subject":{"type":"user","id":"alice","properties":{"x":1e400}},"action":{"name":"read"},"resource":{"type":"record","id":"1"}}`, 400, "subject.properties.x"},
		{"missing subject", server.PathEvaluation, "", `{"action":{"name":"read"},"resource":{"type":"record","id":"1"}}`, 400, "subject is required"},
		{"missing action", server.PathEvaluation, "", `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"1"}}`, 400, "action is required"},
		{"missing resource", server.PathEvaluation, "", `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"}}`, 400, "resource is required"},
		{"subject without type", server.PathEvaluation, "", `{"subject":{"id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"1"}}`, 400, "subject.type is required"},
		{"subject without id", server.PathEvaluation, "", `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record","id":"1"}}`, 400, "subject.id is required"},
		{"empty id", server.PathEvaluation, "", `{"subject":{"type":"user","id":""},"action":{"name":"read"},"resource":{"type":"record","id":"1"}}`, 400, "subject.id is required"},
		{"action without name", server.PathEvaluation, "", `{"subject":{"type":"user","id":"alice"},"action":{},"resource":{"type":"record","id":"1"}}`, 400, "action.name is required"},
		{"resource without type", server.PathEvaluation, "", `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"id":"1"}}`, 400, "resource.type is required"},
		{"resource without id", server.PathEvaluation, "", `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record"}}`, 400, "resource.id is required"},
		{"oversized body", server.PathEvaluation, "", huge, 413, "exceeds the limit of 1048576 bytes"},
		{"evaluations is an object", server.PathEvaluations, "", `{` + valid + `,"evaluations":{}}`, 400, "evaluations must be an array, got an object"},
		{"evaluation item is a string", server.PathEvaluations, "", `{` + valid + `,"evaluations":[{}, "x"]}`, 400, "evaluations[1] must be an object, got a string"},
		{"evaluation item with a wrong type", server.PathEvaluations, "", `{` + valid + `,"evaluations":[{"subject":{"type":"user","id":7}}]}`, 400, "evaluations[0].subject.id must be a string"},
		{"options is a list", server.PathEvaluations, "", `{` + valid + `,"evaluations":[{}],"options":[]}`, 400, "options must be an object"},
		{"unknown semantic", server.PathEvaluations, "", `{` + valid + `,"evaluations":[{}],"options":{"evaluations_semantic":"first"}}`, 400, `"first" is not one of execute_all`},
		{"10k-item batch", server.PathEvaluations, "", batch.String(), 400, "evaluations has 10000 items, more than the limit of 1000"},
		{"search page is a string", server.PathSearchAction, "", `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"},"page":"x"}`, 400, "page must be an object"},
		{"search page.limit is negative", server.PathSearchAction, "", `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"},"page":{"limit":-1}}`, 400, "page.limit must be a non-negative integer"},
		{"search page.token is not ours", server.PathSearchAction, "", `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"},"page":{"token":"bm9wZQ"}}`, 400, "not a page token issued by this PDP"},
		{"subject search without action", server.PathSearchSubject, "", `{"subject":{"type":"user"},"resource":{"type":"record","id":"record-1"}}`, 400, "action is required"},
		{"subject search without resource id", server.PathSearchSubject, "", `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record"}}`, 400, "resource.id is required"},
		{"resource search without subject", server.PathSearchResource, "", `{"action":{"name":"read"},"resource":{"type":"record"}}`, 400, "subject is required"},
		{"resource search without subject id", server.PathSearchResource, "", `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record"}}`, 400, "subject.id is required"},
		{"action search without resource", server.PathSearchAction, "", `{"subject":{"type":"user","id":"alice"}}`, 400, "resource is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.contentType
			if ct == "" {
				ct = "application/json"
			}
			got := post(t, r.base+tc.path, tc.body, "Content-Type", ct)
			if got.status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", got.status, tc.status, got.raw)
			}
			msg, _ := got.body["error"].(string)
			if !strings.Contains(msg, tc.msg) {
				t.Fatalf("error %q does not contain %q", msg, tc.msg)
			}
		})
	}
}

func TestRejectUnknownFields(t *testing.T) {
	body := obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1"), "foo": "bar"}
	lenient := start(t)
	if got := post(t, lenient.base+server.PathEvaluation, body); got.status != http.StatusOK {
		t.Fatalf("unknown fields must be ignored by default (AuthZEN 1.0): status %d: %s", got.status, got.raw)
	}
	strict := start(t, server.WithRejectUnknownFields())
	got := post(t, strict.base+server.PathEvaluation, body)
	if got.status != http.StatusBadRequest || !strings.Contains(got.body["error"].(string), `unknown field "foo"`) {
		t.Fatalf("status %d: %s", got.status, got.raw)
	}
	delete(body, "foo")
	if got := post(t, strict.base+server.PathEvaluation, body); got.status != http.StatusOK {
		t.Fatalf("known fields refused: status %d: %s", got.status, got.raw)
	}
}

func TestBatchLimitOption(t *testing.T) {
	r := start(t, server.WithMaxBatch(2), server.WithMaxRequestBytes(256))
	items := []any{obj{}, obj{}, obj{}}
	got := post(t, r.base+server.PathEvaluations, obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1"), "evaluations": items})
	if got.status != http.StatusBadRequest || !strings.Contains(got.body["error"].(string), "more than the limit of 2") {
		t.Fatalf("status %d: %s", got.status, got.raw)
	}
	got = post(t, r.base+server.PathEvaluation, obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1"), "context": obj{"pad": strings.Repeat("y", 300)}})
	if got.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413: %s", got.status, got.raw)
	}
}

func TestMetadata(t *testing.T) {
	r := start(t)
	got := get(t, r.base+server.PathMetadata)
	if got.status != http.StatusOK || got.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q", got.status, got.header.Get("Content-Type"))
	}
	want := map[string]any{
		"policy_decision_point":       r.base,
		"access_evaluation_endpoint":  r.base + "/access/v1/evaluation",
		"access_evaluations_endpoint": r.base + "/access/v1/evaluations",
		"search_subject_endpoint":     r.base + "/access/v1/search/subject",
		"search_resource_endpoint":    r.base + "/access/v1/search/resource",
		"search_action_endpoint":      r.base + "/access/v1/search/action",
	}
	if !reflect.DeepEqual(got.body, want) {
		t.Fatalf("metadata = %v, want %v", got.body, want)
	}
	proxied := start(t, server.WithBaseURL("https://pdp.example.com/"))
	got = get(t, proxied.base+server.PathMetadata)
	if got.body["access_evaluation_endpoint"] != "https://pdp.example.com/access/v1/evaluation" || got.body["policy_decision_point"] != "https://pdp.example.com" {
		t.Fatalf("metadata with base URL: %s", got.raw)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	r := start(t)
	got := get(t, r.base+"/healthz")
	if got.status != http.StatusOK || got.body["status"] != "SERVING" || got.body["revision"] != float64(7) {
		t.Fatalf("healthz: %d %s", got.status, got.raw)
	}
	post(t, r.base+server.PathEvaluation, obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1")})
	got = get(t, r.base+"/metrics")
	for _, want := range []string{
		`verdict_pdp_server_requests_total{api="authzen_evaluation",code="200"} 1`,
		`verdict_pdp_server_decisions_total{decision="permit"} 1`,
		`verdict_pdp_server_request_duration_seconds_count{api="authzen_evaluation"} 1`,
	} {
		if !strings.Contains(string(got.raw), want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	idle := startEngine(t, pdp.New(), server.WithInsecurePlaintext())
	if got := get(t, idle.base+"/healthz"); got.status != http.StatusServiceUnavailable {
		t.Fatalf("healthz without a policy: %d", got.status)
	}
	got = post(t, idle.base+server.PathEvaluation, obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1")})
	if got.status != http.StatusServiceUnavailable || !strings.Contains(got.body["error"].(string), "no active policy") {
		t.Fatalf("evaluation without a policy: %d %s", got.status, got.raw)
	}
}

func TestInFlightLimit(t *testing.T) {
	r := start(t, server.WithMaxInFlight(1), server.WithRequestTimeout(200*time.Millisecond))
	// A request whose body never finishes holds the only slot.
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, r.base+server.PathEvaluation, pr)
	req.Header.Set("Content-Type", "application/json")
	held := make(chan struct{})
	go func() {
		defer close(held)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	if _, err := pw.Write([]byte(`{"subject":`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := post(t, r.base+server.PathEvaluation, obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1")})
		if got.status == http.StatusServiceUnavailable {
			if !strings.Contains(got.body["error"].(string), "overloaded") {
				t.Fatalf("503 without the reason: %s", got.raw)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the slot was never held: last status %d", got.status)
		}
	}
	pw.CloseWithError(fmt.Errorf("test done"))
	<-held
	if got := post(t, r.base+server.PathEvaluation, obj{"subject": subject("alice"), "action": action("read"), "resource": resource("record-1")}); got.status != http.StatusOK {
		t.Fatalf("after the slot was released: %d %s", got.status, got.raw)
	}
}

func TestNewNeedsTransportSecurity(t *testing.T) {
	if _, err := server.New(pdp.New()); !errors.Is(err, server.ErrNoTransportSecurity) {
		t.Fatalf("New without TLS or plaintext: %v", err)
	}
	if _, err := server.New(pdp.New(), server.WithInsecurePlaintext(), server.WithTLS(&tls.Config{})); !errors.Is(err, server.ErrNoTransportSecurity) {
		t.Fatalf("New with both TLS and plaintext: %v", err)
	}
}
