package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/server"
	"github.com/verdict-authz/verdict/pip"
	"github.com/verdict-authz/verdict/pip/jsonfile"
)

// testPIPs returns the PIP set of the test fixture: subjects and resources
// keyed by id, both listable.
func testPIPs(t testing.TB) *pip.Set {
	t.Helper()
	subjects, err := jsonfile.New("testdata/subjects.json", pip.AttributeRef{Category: pdp.CategorySubject, ID: "id"})
	if err != nil {
		t.Fatal(err)
	}
	resources, err := jsonfile.New("testdata/resources.json", pip.AttributeRef{Category: pdp.CategoryResource, ID: "id"})
	if err != nil {
		t.Fatal(err)
	}
	set, err := pip.NewSet(
		pip.Source{Name: "subjects", Provider: pip.Wrap(subjects)},
		pip.Source{Name: "resources", Provider: pip.Wrap(resources)},
	)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// testEngine returns an engine running testdata/policy.rego with the
// fixture's PIPs.
func testEngine(t testing.TB, set *pip.Set) *pdp.Engine {
	t.Helper()
	src, err := os.ReadFile("testdata/policy.rego")
	if err != nil {
		t.Fatal(err)
	}
	e := pdp.New(pdp.WithPIPs(set))
	err = e.Activate(context.Background(), &pdp.Policy{
		Service:  "test",
		Revision: 7,
		Modules:  map[string]string{"policy.rego": string(src)},
		Attributes: []pdp.AttributeSpec{
			{Category: pdp.CategoryEnvironment, ID: "time", Type: "dateTime"},
			{Category: pdp.CategoryAction, ID: "soft", Type: "boolean"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// running is a server serving on loopback ports.
type running struct {
	srv      *server.Server
	base     string // http://127.0.0.1:PORT
	grpcAddr string
	done     chan error
}

// start serves a test engine in plaintext on 127.0.0.1:0 until the test
// ends, and checks that Serve returns cleanly.
func start(t testing.TB, opts ...server.Option) *running {
	t.Helper()
	set := testPIPs(t)
	return startEngine(t, testEngine(t, set), append([]server.Option{server.WithInsecurePlaintext(), server.WithPIPs(set),
		server.WithActionNames([]string{"read", "write", "delete", "GET"}), server.WithEntityType("resources", "record")}, opts...)...)
}

func startEngine(t testing.TB, e *pdp.Engine, opts ...server.Option) *running {
	t.Helper()
	srv, err := server.New(e, opts...)
	if err != nil {
		t.Fatal(err)
	}
	hl := listen(t)
	gl := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{srv: srv, base: "http://" + hl.Addr().String(), grpcAddr: gl.Addr().String(), done: make(chan error, 1)}
	go func() { r.done <- srv.Serve(ctx, hl, gl) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return r
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// reply is an HTTP answer with its body decoded when it is JSON.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// post sends body (a string is sent as is, anything else as JSON).
func post(t testing.TB, url string, body any, headers ...string) reply {
	t.Helper()
	return do(t, http.DefaultClient, newPost(t, url, body, headers...))
}

// newPost builds a JSON POST; headers are name, value pairs (an empty
// value removes the header).
func newPost(t testing.TB, url string, body any, headers ...string) *http.Request {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case string:
		data = []byte(b)
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

func get(t testing.TB, url string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, http.DefaultClient, req)
}

func do(t testing.TB, c *http.Client, req *http.Request) reply {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("response is not a JSON object: %v: %s", err, raw)
		}
	}
	return r
}

// decisions extracts the "decision" booleans of an evaluations response.
func decisions(t testing.TB, r reply) []any {
	t.Helper()
	evs, ok := r.body["evaluations"].([]any)
	if !ok {
		t.Fatalf("no evaluations array in %s", r.raw)
	}
	out := make([]any, len(evs))
	for i, e := range evs {
		out[i] = e.(map[string]any)["decision"]
	}
	return out
}

// obj is shorthand for JSON objects in test requests.
type obj = map[string]any

func subject(id string, props ...any) obj {
	o := obj{"type": "user", "id": id}
	if len(props) > 0 {
		o["properties"] = propsOf(props)
	}
	return o
}

func action(name string, props ...any) obj {
	o := obj{"name": name}
	if len(props) > 0 {
		o["properties"] = propsOf(props)
	}
	return o
}

func resource(id string, props ...any) obj {
	o := obj{"type": "record", "id": id}
	if len(props) > 0 {
		o["properties"] = propsOf(props)
	}
	return o
}

func propsOf(kv []any) obj {
	o := obj{}
	for i := 0; i+1 < len(kv); i += 2 {
		o[kv[i].(string)] = kv[i+1]
	}
	return o
}
