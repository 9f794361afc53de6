package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/server"
)

// A remote PDP on loopback: the engine runs a compiled policy (here a
// hand-written module in the compile contract that permits "read"), and
// any HTTP client asks it AuthZEN questions.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	engine := pdp.New()
	err := engine.Activate(ctx, &pdp.Policy{Modules: map[string]string{"p.rego": `package verdict.main
import rego.v1
default result := {"d": "D"}
result := {"d": "P"} if "read" in input.a["urn:oasis:names:tc:xacml:3.0:attribute-category:action"].name.string
`}})
	if err != nil {
		panic(err)
	}
	srv, err := server.New(engine, server.WithInsecurePlaintext())
	if err != nil {
		panic(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()

	for _, act := range []string{"read", "delete"} {
		body := `{"subject": {"type": "user", "id": "alice"}, "action": {"name": "` + act + `"}, "resource": {"type": "todo", "id": "1"}}`
		resp, err := http.Post("http://"+ln.Addr().String()+server.PathEvaluation, "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(act, resp.StatusCode, strings.Contains(string(out), `"decision":true`))
	}
	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// read 200 true
	// delete 200 false
	// stopped: <nil>
}
