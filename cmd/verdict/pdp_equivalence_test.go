package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"github.com/golang-jwt/jwt/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/verdict-authz/verdict/pdp"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// equivalencePolicy exercises every attribute source of DESIGN.md's table:
// the HTTP request (method, path), the workload identity, JWT claims, the
// environment time and a PIP keyed by the token's subject.
const equivalencePolicy = `<Policy xmlns="urn:oasis:names:tc:xacml:3.0:core:schema:wd-17" PolicyId="urn:test:equivalence" Version="1.0"
    RuleCombiningAlgId="urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit">
  <Target/>
  <Rule RuleId="public" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:and">
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">GET</AttributeValue>
          <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" AttributeId="name" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
        </Apply>
        <Apply FunctionId="urn:oasis:names:tc:xacml:3.0:function:string-starts-with">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">/public/</AttributeValue>
          <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-one-and-only">
            <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource" AttributeId="path" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="true"/>
          </Apply>
        </Apply>
      </Apply>
    </Condition>
  </Rule>
  <Rule RuleId="orders-for-the-web-workload" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:and">
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">/orders</AttributeValue>
          <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource" AttributeId="id" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
        </Apply>
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">spiffe://cluster/ns/web</AttributeValue>
          <AttributeDesignator Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" AttributeId="workload" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
        </Apply>
      </Apply>
    </Condition>
  </Rule>
  <Rule RuleId="read-todos-with-scope-before-2100" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:and">
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">GET</AttributeValue>
          <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" AttributeId="name" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
        </Apply>
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">/todos</AttributeValue>
          <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource" AttributeId="path" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
        </Apply>
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">todos:read</AttributeValue>
          <AttributeDesignator Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" AttributeId="scope" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
        </Apply>
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:dateTime-less-than">
          <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:dateTime-one-and-only">
            <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:environment" AttributeId="time" DataType="http://www.w3.org/2001/XMLSchema#dateTime" MustBePresent="true"/>
          </Apply>
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#dateTime">2100-01-01T00:00:00Z</AttributeValue>
        </Apply>
      </Apply>
    </Condition>
  </Rule>
  <Rule RuleId="editors-create-todos" Effect="Permit">
    <Condition>
      <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:and">
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">POST</AttributeValue>
          <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:action" AttributeId="name" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
        </Apply>
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">/todos</AttributeValue>
          <AttributeDesignator Category="urn:oasis:names:tc:xacml:3.0:attribute-category:resource" AttributeId="path" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
        </Apply>
        <Apply FunctionId="urn:oasis:names:tc:xacml:1.0:function:string-is-in">
          <AttributeValue DataType="http://www.w3.org/2001/XMLSchema#string">editor</AttributeValue>
          <AttributeDesignator Category="urn:oasis:names:tc:xacml:1.0:subject-category:access-subject" AttributeId="role" DataType="http://www.w3.org/2001/XMLSchema#string" MustBePresent="false"/>
        </Apply>
      </Apply>
    </Condition>
  </Rule>
</Policy>
`

// equivalenceCase is one HTTP request a service protects, with who sends it.
type equivalenceCase struct {
	name, method, path, principal, sub, scope string
	want                                      string // XACML decision
}

var equivalenceCases = []equivalenceCase{
	{"public read", "GET", "/public/doc", "", "", "", "Permit"},
	{"public write", "POST", "/public/doc", "", "", "", "Deny"},
	{"no path rule applies", "GET", "/private", "", "", "", "Deny"},
	{"web workload reads orders", "GET", "/orders", "spiffe://cluster/ns/web", "", "", "Permit"},
	{"another workload reads orders", "GET", "/orders", "spiffe://cluster/ns/batch", "", "", "Deny"},
	{"token with the scope", "GET", "/todos", "", "alice", "todos:read profile", "Permit"},
	{"token without the scope", "GET", "/todos", "", "bob", "profile", "Deny"},
	{"editor from the PIP", "POST", "/todos", "", "bob", "profile", "Permit"},
	{"viewer from the PIP", "POST", "/todos", "", "alice", "todos:read", "Deny"},
	{"workload and token together", "GET", "/todos", "spiffe://cluster/ns/web", "alice", "todos:read", "Permit"},
}

// TestEntryPointEquivalence sends the same requests through the engine
// directly (as the embedded SDK does), gRPC DecisionService, Connect,
// AuthZEN HTTP and Envoy ext_authz, and requires the same decisions.
func TestEntryPointEquivalence(t *testing.T) {
	dir := t.TempDir()
	tf := newTokenFixture(t)
	files := map[string]string{
		"policy.xml": equivalencePolicy,
		"users.json": `{"alice": {"role": "viewer"}, "bob": {"role": ["editor", "viewer"]}}`,
		"pdp.yaml": `listen: {http: 127.0.0.1:0, grpc: 127.0.0.1:0}
insecure_plaintext: true
policies: [policy.xml]
pips:
  - {type: json-file, file: users.json, key: {category: subject, attribute: sub}}
token: {jwks: ` + tf.jwksPath + `, issuer: https://id.example, audience: verdict-pdp, algorithms: [ES256]}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := loadPDPConfig(filepath.Join(dir, "pdp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p, err := newPDP(ctx, cfg, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.server.Serve(ctx, hl, gl) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	base := "http://" + hl.Addr().String()
	cc, err := grpc.NewClient(gl.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	grpcClient := verdictv1.NewDecisionServiceClient(cc)
	connectClient := verdictv1connect.NewDecisionServiceClient(http.DefaultClient, base)
	envoy := authv3.NewAuthorizationClient(cc)
	verify, closeKeys, err := newTokenValidator(ctx, cfg.Token, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	defer closeKeys()

	for _, tc := range equivalenceCases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now().UTC()
			var tok string
			if tc.sub != "" {
				tok = tf.sign(t, jwt.MapClaims{"iss": "https://id.example", "aud": "verdict-pdp", "sub": tc.sub, "scope": tc.scope, "exp": now.Add(time.Hour).Unix()})
			}
			got := map[string]string{}

			// The engine, as the embedded SDK's HTTP PEP would call it.
			req := &pdp.Request{}
			str := func(s string) pdp.Value { return pdp.Value{Type: "string", Lexical: s, Untyped: true} }
			req.Add(pdp.CategoryAction, "name", str(tc.method))
			req.Add(pdp.CategoryResource, "type", str("route"))
			req.Add(pdp.CategoryResource, "id", str(tc.path))
			req.Add(pdp.CategoryResource, "path", str(tc.path))
			req.Add(pdp.CategoryEnvironment, "time", pdp.Value{Type: "dateTime", Lexical: now.Format(time.RFC3339Nano)})
			if tc.principal != "" {
				req.Add(pdp.CategorySubject, "workload", str(tc.principal))
			}
			if tok != "" {
				attrs, err := verify.Validate(ctx, tok)
				if err != nil {
					t.Fatal(err)
				}
				for id, bag := range attrs {
					for _, v := range bag {
						vals, err := pdp.JSONValues(v)
						if err != nil {
							t.Fatal(err)
						}
						req.Add(pdp.CategorySubject, id, vals...)
					}
				}
			}
			d, err := p.engine.Decide(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			got["engine"] = string(d.Effect)

			// Envoy ext_authz.
			headers := map[string]string{}
			if tok != "" {
				headers["authorization"] = "Bearer " + tok
			}
			cr, err := envoy.Check(ctx, &authv3.CheckRequest{Attributes: &authv3.AttributeContext{
				Source:  &authv3.AttributeContext_Peer{Principal: tc.principal},
				Request: &authv3.AttributeContext_Request{Http: &authv3.AttributeContext_HttpRequest{Method: tc.method, Path: tc.path + "?trace=1", Headers: headers}},
			}})
			if err != nil {
				t.Fatal(err)
			}
			if cr.GetOkResponse() != nil {
				got["ext_authz"] = "Permit"
			} else {
				var body struct {
					Context struct {
						XACML string `json:"xacml_decision"`
					} `json:"context"`
				}
				if err := json.Unmarshal([]byte(cr.GetDeniedResponse().GetBody()), &body); err != nil {
					t.Fatalf("denied body: %v", err)
				}
				got["ext_authz"] = body.Context.XACML
			}

			// AuthZEN HTTP: the claims travel as subject properties.
			subjectProps := map[string]any{}
			subject := map[string]any{"type": "anonymous", "id": "anonymous"}
			if tc.principal != "" {
				subjectProps["workload"] = tc.principal
				subject = map[string]any{"type": "workload", "id": tc.principal}
			}
			if tok != "" {
				subjectProps["sub"] = tc.sub
				subjectProps["scope"] = strings.Fields(tc.scope)
				subject = map[string]any{"type": "user", "id": tc.sub}
			}
			subject["properties"] = subjectProps
			body, _ := json.Marshal(map[string]any{
				"subject":  subject,
				"action":   map[string]any{"name": tc.method},
				"resource": map[string]any{"type": "route", "id": tc.path, "properties": map[string]any{"path": tc.path}},
				"context":  map[string]any{"time": now.Format(time.RFC3339)},
			})
			resp, err := http.Post(base+"/access/v1/evaluation", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			var az struct {
				Decision bool
				Context  struct {
					XACML string `json:"xacml_decision"`
				}
			}
			err = json.NewDecoder(resp.Body).Decode(&az)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("AuthZEN: %d %v", resp.StatusCode, err)
			}
			got["authzen"] = az.Context.XACML
			if az.Decision {
				got["authzen"] = "Permit"
			}

			// gRPC and Connect DecisionService: the token as bearer_token.
			er := &verdictv1.EvaluateRequest{
				Action:   &verdictv1.Action{Name: tc.method},
				Resource: &verdictv1.Resource{Type: "route", Id: tc.path, Properties: mustStruct(t, map[string]any{"path": tc.path})},
				Context:  mustStruct(t, map[string]any{"time": now.Format(time.RFC3339)}),
			}
			switch {
			case tok != "":
				er.BearerToken = tok
				if tc.principal != "" {
					er.Subject = &verdictv1.Subject{Type: "user", Id: tc.sub, Properties: mustStruct(t, map[string]any{"workload": tc.principal})}
				}
			case tc.principal != "":
				er.Subject = &verdictv1.Subject{Type: "workload", Id: tc.principal, Properties: mustStruct(t, map[string]any{"workload": tc.principal})}
			default:
				er.Subject = &verdictv1.Subject{Type: "anonymous", Id: "anonymous"}
			}
			gr, err := grpcClient.Evaluate(ctx, er)
			if err != nil {
				t.Fatal(err)
			}
			got["grpc"] = gr.GetResult().GetXacmlDecision()
			cres, err := connectClient.Evaluate(ctx, connect.NewRequest(er))
			if err != nil {
				t.Fatal(err)
			}
			got["connect"] = cres.Msg.GetResult().GetXacmlDecision()

			for path, dec := range got {
				if dec != tc.want {
					t.Errorf("%s: %s, want %s (all: %v)", path, dec, tc.want, got)
				}
			}
		})
	}
}

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
