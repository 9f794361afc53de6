package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/xacml"
)

// certPolicy implements the fixture of the OpenID AuthZEN 1.0
// certification scenario ("Required Policy Behaviour"): everyone reads;
// alice writes records that are not archived; an admin writes archived
// ones; a delete is allowed when it is soft.
const certPolicy = `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="urn:test:authzen-certification" Version="1.0"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit">
  <Target/>
  <Rule RuleId="read" Effect="Permit">
    <Target><AnyOf><AllOf>
      <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">read</AttributeValue>
        <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" AttributeId="name" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
      </Match>
    </AllOf></AnyOf></Target>
  </Rule>
  <Rule RuleId="alice-writes-live-records" Effect="Permit">
    <Target><AnyOf><AllOf>
      <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">write</AttributeValue>
        <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" AttributeId="name" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
      </Match>
    </AllOf></AnyOf></Target>
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:and">
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">alice</AttributeValue>
          <AttributeDesignator Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" AttributeId="id" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
        </Apply>
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:not">
          <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
            <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">archived</AttributeValue>
            <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource" AttributeId="status" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
          </Apply>
        </Apply>
      </Apply>
    </Condition>
  </Rule>
  <Rule RuleId="admins-write-archived-records" Effect="Permit">
    <Target><AnyOf><AllOf>
      <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">write</AttributeValue>
        <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" AttributeId="name" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
      </Match>
      <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">archived</AttributeValue>
        <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource" AttributeId="status" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
      </Match>
      <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">admin</AttributeValue>
        <AttributeDesignator Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" AttributeId="role" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
      </Match>
    </AllOf></AnyOf></Target>
  </Rule>
  <Rule RuleId="soft-delete" Effect="Permit">
    <Target><AnyOf><AllOf>
      <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:string-equal">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">delete</AttributeValue>
        <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" AttributeId="name" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
      </Match>
      <Match MatchId="urn:oasis:names:tc:xacml:1.0:function:boolean-equal">
        <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#boolean">true</AttributeValue>
        <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" AttributeId="soft" DataType="http://www.w3.org/2001/XMLSchema#boolean" MustBePresent="false"/>
      </Match>
    </AllOf></AnyOf></Target>
  </Rule>
</Policy>
`

// certCheck is one request of the certification scenario and what the
// harness validates of its answer.
type certCheck struct {
	name, path, body string
	status           int
	decision         any      // bool for evaluations, []bool for batches
	includes         []string // search results that must be present
	empty            bool     // search results must be empty
}

var certChecks = []certCheck{
	// Basic.
	{name: "permit", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 200, decision: true},
	{name: "deny", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"bob"},"action":{"name":"write"},"resource":{"type":"record","id":"record-1"}}`, status: 200, decision: false},
	{name: "context", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"},"context":{"time":"2025-06-27T18:03-07:00","ip":"192.168.1.1"}}`, status: 200, decision: true},
	{name: "resource properties deny", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"write"},"resource":{"type":"record","id":"record-2","properties":{"status":"archived"}}}`, status: 200, decision: false},
	{name: "subject properties permit", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"bob","properties":{"role":"admin"}},"action":{"name":"write"},"resource":{"type":"record","id":"record-2","properties":{"status":"archived"}}}`, status: 200, decision: true},
	{name: "soft delete", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"delete","properties":{"soft":true}},"resource":{"type":"record","id":"record-1"}}`, status: 200, decision: true},
	{name: "hard delete", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"delete","properties":{"soft":false}},"resource":{"type":"record","id":"record-1"}}`, status: 200, decision: false},
	{name: "additional properties", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice","properties":{"department":"Sales","role":"manager"}},"action":{"name":"read","properties":{"method":"GET"}},"resource":{"type":"record","id":"record-1","properties":{"status":"active","owner":"bob"}}}`, status: 200, decision: true},
	{name: "unknown fields", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"},"foo":"bar","futureField":{"nested":true}}`, status: 200, decision: true},
	{name: "missing subject", path: "/access/v1/evaluation", body: `{"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400},
	{name: "missing action", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"}}`, status: 400},
	{name: "missing resource", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"}}`, status: 400},
	{name: "subject without type", path: "/access/v1/evaluation", body: `{"subject":{"id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400},
	{name: "subject without id", path: "/access/v1/evaluation", body: `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400},
	{name: "action without name", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"action":{},"resource":{"type":"record","id":"record-1"}}`, status: 400},
	{name: "resource without type", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"id":"record-1"}}`, status: 400},
	{name: "resource without id", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record"}}`, status: 400},
	{name: "malformed JSON", path: "/access/v1/evaluation", body: `{"subject": `, status: 400},
	{name: "empty body", path: "/access/v1/evaluation", body: ``, status: 400},
	{name: "subject is a string", path: "/access/v1/evaluation", body: `{"subject":"alice","action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 400},
	{name: "action.name is a number", path: "/access/v1/evaluation", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":123},"resource":{"type":"record","id":"record-1"}}`, status: 400},
	// Batch.
	{name: "batch", path: "/access/v1/evaluations", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"evaluations":[{"resource":{"type":"record","id":"record-1"}},{"resource":{"type":"record","id":"record-2"}}]}`, status: 200, decision: []bool{true, true}},
	{name: "batch order", path: "/access/v1/evaluations", body: `{"subject":{"type":"user","id":"bob"},"resource":{"type":"record","id":"record-1"},"evaluations":[{"action":{"name":"read"}},{"action":{"name":"write"}}]}`, status: 200, decision: []bool{true, false}},
	{name: "batch properties", path: "/access/v1/evaluations", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"write"},"evaluations":[{"resource":{"type":"record","id":"record-1","properties":{"status":"active"}}},{"resource":{"type":"record","id":"record-2","properties":{"status":"archived"}}}]}`, status: 200, decision: []bool{true, false}},
	{name: "batch subject properties", path: "/access/v1/evaluations", body: `{"action":{"name":"write"},"resource":{"type":"record","id":"record-2","properties":{"status":"archived"}},"evaluations":[{"subject":{"type":"user","id":"alice"}},{"subject":{"type":"user","id":"bob","properties":{"role":"admin"}}}]}`, status: 200, decision: []bool{false, true}},
	{name: "batch without defaults", path: "/access/v1/evaluations", body: `{"evaluations":[{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}},{"subject":{"type":"user","id":"bob"},"action":{"name":"write"},"resource":{"type":"record","id":"record-1"}}]}`, status: 200, decision: []bool{true, false}},
	{name: "batch context inheritance", path: "/access/v1/evaluations", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"context":{"time":"2025-06-27T18:03-07:00"},"evaluations":[{"resource":{"type":"record","id":"record-1"}},{"resource":{"type":"record","id":"record-2"},"context":{"time":"2025-06-27T19:00-07:00","source":"batch-override"}}]}`, status: 200, decision: []bool{true, true}},
	{name: "batch default merging", path: "/access/v1/evaluations", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"write"},"resource":{"type":"record"},"evaluations":[{"resource":{"id":"record-1","properties":{"status":"active"}}},{"resource":{"type":"record","id":"record-2","properties":{"status":"archived"}}}]}`, status: 200, decision: []bool{true, false}},
	{name: "batch item error", path: "/access/v1/evaluations", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"evaluations":[{"resource":{"type":"record","id":"record-1"}},{}]}`, status: 200, decision: []bool{true, false}},
	{name: "batch without evaluations", path: "/access/v1/evaluations", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 200, decision: true},
	{name: "batch with empty evaluations", path: "/access/v1/evaluations", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"},"evaluations":[]}`, status: 200, decision: true},
	// Search.
	{name: "subject search", path: "/access/v1/search/subject", body: `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 200, includes: []string{"alice", "bob"}},
	{name: "subject search with context", path: "/access/v1/search/subject", body: `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"},"context":{"time":"2025-06-27T18:03-07:00"}}`, status: 200, includes: []string{"alice", "bob"}},
	{name: "subject search properties", path: "/access/v1/search/subject", body: `{"subject":{"type":"user"},"action":{"name":"write"},"resource":{"type":"record","id":"record-2","properties":{"status":"archived"}}}`, status: 200, includes: []string{"bob"}},
	{name: "resource search", path: "/access/v1/search/resource", body: `{"subject":{"type":"user","id":"alice"},"action":{"name":"read"},"resource":{"type":"record"}}`, status: 200, includes: []string{"record-1"}},
	{name: "resource search properties", path: "/access/v1/search/resource", body: `{"subject":{"type":"user","id":"bob","properties":{"role":"admin"}},"action":{"name":"write"},"resource":{"type":"record"}}`, status: 200, includes: []string{"record-2"}},
	{name: "action search", path: "/access/v1/search/action", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"}}`, status: 200, includes: []string{"read", "write"}},
	{name: "action search with context", path: "/access/v1/search/action", body: `{"subject":{"type":"user","id":"alice"},"resource":{"type":"record","id":"record-1"},"context":{"time":"2025-06-27T18:03-07:00"}}`, status: 200, includes: []string{"read", "write"}},
	{name: "action search properties", path: "/access/v1/search/action", body: `{"subject":{"type":"user","id":"bob","properties":{"role":"admin"}},"resource":{"type":"record","id":"record-2","properties":{"status":"archived"}}}`, status: 200, includes: []string{"write"}},
	{name: "page limit", path: "/access/v1/search/subject", body: `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"},"page":{"limit":1}}`, status: 200, includes: []string{"alice"}},
	{name: "unknown subject id", path: "/access/v1/search/action", body: `{"subject":{"type":"user","id":"nonexistent-user"},"resource":{"type":"record","id":"record-1"}}`, status: 200, empty: true},
	{name: "unknown subject type", path: "/access/v1/search/subject", body: `{"subject":{"type":"spaceship"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"}}`, status: 200, empty: true},
	{name: "subject search without action", path: "/access/v1/search/subject", body: `{"subject":{"type":"user"},"resource":{"type":"record","id":"record-1"}}`, status: 400},
	{name: "resource search without subject", path: "/access/v1/search/resource", body: `{"action":{"name":"read"},"resource":{"type":"record"}}`, status: 400},
	{name: "action search without resource", path: "/access/v1/search/action", body: `{"subject":{"type":"user","id":"alice"}}`, status: 400},
	{name: "subject search without resource id", path: "/access/v1/search/subject", body: `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record"}}`, status: 400},
	{name: "resource search without subject id", path: "/access/v1/search/resource", body: `{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record"}}`, status: 400},
}

// TestCertificationScenario runs the checks of the AuthZEN 1.0
// certification scenario (Basic, Batch, Search, Discovery) against
// `verdict pdp serve` loaded with the scenario's fixture through contract 2.
func TestCertificationScenario(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"policy.xml":     certPolicy,
		"subjects.json":  `{"alice": {"type": "user"}, "bob": {"type": "user", "role": "admin"}}`,
		"resources.json": `{"record-1": {"type": "record", "status": "active"}, "record-2": {"type": "record", "status": "archived"}}`,
		"pdp.yaml": `listen: {http: 127.0.0.1:0}
insecure_plaintext: true
policies: [.]
pips:
  - {type: json-file, file: subjects.json, key: {category: subject, attribute: id}}
  - {type: json-file, file: resources.json, key: {category: resource, attribute: id}}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s := serveCommand(t, "--config", filepath.Join(dir, "pdp.yaml"))
	base := "http://" + s.httpAddr
	if s.grpcAddr != "off" {
		t.Fatalf("gRPC is off without a grpc address, listening line says %q", s.grpcAddr)
	}
	for _, c := range certChecks {
		t.Run(c.name, func(t *testing.T) {
			for range 2 { // idempotency: the same answer twice
				req, _ := http.NewRequest(http.MethodPost, base+c.path, strings.NewReader(c.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Request-ID", "cert-"+c.name)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var body map[string]any
				derr := json.NewDecoder(resp.Body).Decode(&body)
				resp.Body.Close()
				if resp.StatusCode != c.status || derr != nil || resp.Header.Get("Content-Type") != "application/json" {
					t.Fatalf("status %d (want %d), %v, %s", resp.StatusCode, c.status, derr, resp.Header.Get("Content-Type"))
				}
				if resp.Header.Get("X-Request-ID") != "cert-"+c.name {
					t.Fatalf("X-Request-ID not echoed: %q", resp.Header.Get("X-Request-ID"))
				}
				if c.status != 200 {
					return
				}
				checkCertAnswer(t, c, body)
			}
		})
	}
	// Pagination: follow next_token to the end.
	seen := []string{}
	tok := ""
	for range 10 {
		page := `{"limit":1}`
		if tok != "" {
			page = `{"token":"` + tok + `"}`
		}
		resp, err := http.Post(base+"/access/v1/search/subject", "application/json", strings.NewReader(`{"subject":{"type":"user"},"action":{"name":"read"},"resource":{"type":"record","id":"record-1"},"page":`+page+`}`))
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Results []map[string]string
			Page    *struct {
				NextToken *string `json:"next_token"`
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || body.Page == nil || body.Page.NextToken == nil {
			t.Fatalf("page without next_token: %v", err)
		}
		for _, r := range body.Results {
			seen = append(seen, r["id"])
		}
		if tok = *body.Page.NextToken; tok == "" {
			break
		}
	}
	if !reflect.DeepEqual(seen, []string{"alice", "bob"}) {
		t.Fatalf("paged subject search = %v", seen)
	}
	// Discovery.
	resp, err := http.Get(base + "/.well-known/authzen-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	err = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if err != nil || meta["policy_decision_point"] != base || meta["access_evaluation_endpoint"] != base+"/access/v1/evaluation" {
		t.Fatalf("metadata: %v %v", meta, err)
	}
	// A wrong content type is a 400 too.
	resp, err = http.Post(base+"/access/v1/evaluation", "text/plain", bytes.NewReader([]byte(certChecks[0].body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("text/plain: %d", resp.StatusCode)
	}
}

func checkCertAnswer(t *testing.T, c certCheck, body map[string]any) {
	t.Helper()
	switch want := c.decision.(type) {
	case bool:
		if body["decision"] != want {
			t.Fatalf("decision = %v, want %v", body["decision"], want)
		}
		return
	case []bool:
		evs, _ := body["evaluations"].([]any)
		var got []bool
		for _, e := range evs {
			d, ok := e.(map[string]any)["decision"].(bool)
			if !ok {
				t.Fatalf("item without a boolean decision: %v", e)
			}
			got = append(got, d)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("decisions = %v, want %v", got, want)
		}
		return
	}
	results, ok := body["results"].([]any)
	if !ok {
		t.Fatalf("no results array: %v", body)
	}
	if page, ok := body["page"].(map[string]any); ok {
		if _, ok := page["next_token"].(string); !ok {
			t.Fatalf("page.next_token is not a string: %v", page)
		}
	}
	var got []string
	for _, r := range results {
		m := r.(map[string]any)
		if id, ok := m["id"].(string); ok {
			got = append(got, id)
			if m["type"] == nil {
				t.Fatalf("result without a type: %v", m)
			}
			continue
		}
		got = append(got, m["name"].(string))
	}
	if c.empty && len(got) != 0 {
		t.Fatalf("results = %v, want none", got)
	}
	for _, w := range c.includes {
		if !slices.Contains(got, w) {
			t.Fatalf("results %v lack %s", got, w)
		}
	}
}

func TestCertificationPolicyLiterals(t *testing.T) {
	p, err := xacml.ParseXML("policy.xml", []byte(certPolicy))
	if err != nil {
		t.Fatal(err)
	}
	compiled, err := build.CompileRoot([]xacml.Evaluable{p}, "")
	if err != nil {
		t.Fatal(err)
	}
	got := policyLiterals(compiled.Checked)
	if !reflect.DeepEqual(got.actions, []string{"delete", "read", "write"}) || !reflect.DeepEqual(got.subjectIDs, []string{"alice"}) {
		t.Fatalf("literals = %+v", got)
	}
}
