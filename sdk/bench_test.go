package sdk_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/sdk"
)

// Benchmarks compare Verdict with OPA's rego API in the same run, on the
// same requests (benchstat-friendly names: BenchmarkX/key=value/...):
//
//	go test -run '^$' -bench 'Todo|RBAC|Middleware' -benchmem -count 6 ./sdk | tee new.txt
//	go test -run '^$' -bench HotSwap -benchtime 1x -timeout 30m ./sdk
//
// (BenchmarkHotSwap activates a 10k-rule policy, which takes minutes on a
// busy machine: it runs once per invocation.)
//
// Verdict decides with the XACML Todo policy compiled to Rego and its users
// coming from the json-file PIP; OPA with the hand-written reference Rego
// and the users as data. "input=map" hands each implementation a decoded
// JSON map; "input=parsed" the input already converted (OPA: ast.Value;
// Verdict: a pdp.Request).

// opaTodo prepares the reference Rego query once.
func opaTodo(b *testing.B) rego.PreparedEvalQuery {
	b.Helper()
	dir := todoBenchDir(b)
	src, err := os.ReadFile(filepath.Join(dir, "policy.rego"))
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "data.json"))
	if err != nil {
		b.Fatal(err)
	}
	var data map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		b.Fatal(err)
	}
	pq, err := rego.New(
		rego.Query("data.todo.decision"),
		rego.Module("policy.rego", string(src)),
		rego.Store(inmem.NewFromObject(data)),
	).PrepareForEval(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	return pq
}

func opaAllowed(b *testing.B, rs rego.ResultSet, err error) bool {
	if err != nil || len(rs) != 1 || len(rs[0].Expressions) != 1 {
		b.Fatalf("OPA result %v, %v", rs, err)
	}
	m, _ := rs[0].Expressions[0].Value.(map[string]any)
	allowed, ok := m["decision"].(bool)
	if !ok {
		b.Fatalf("OPA result %v", rs[0].Expressions[0].Value)
	}
	return allowed
}

func BenchmarkTodo(b *testing.B) {
	cases := todoCases(b)
	ctx := context.Background()

	b.Run("impl=opa/input=map", func(b *testing.B) {
		pq := opaTodo(b)
		for _, c := range cases {
			rs, err := pq.Eval(ctx, rego.EvalInput(c.input))
			if opaAllowed(b, rs, err) != c.expected {
				b.Fatalf("OPA decided %s wrongly", c.raw)
			}
		}
		i := 0
		for b.Loop() {
			_, _ = pq.Eval(ctx, rego.EvalInput(cases[i%len(cases)].input))
			i++
		}
	})
	b.Run("impl=opa/input=parsed", func(b *testing.B) {
		pq := opaTodo(b)
		parsed := make([]ast.Value, len(cases))
		for i, c := range cases {
			v, err := ast.InterfaceToValue(c.input)
			if err != nil {
				b.Fatal(err)
			}
			parsed[i] = v
			rs, err := pq.Eval(ctx, rego.EvalParsedInput(v))
			if opaAllowed(b, rs, err) != c.expected {
				b.Fatalf("OPA decided %s wrongly", c.raw)
			}
		}
		i := 0
		for b.Loop() {
			_, _ = pq.Eval(ctx, rego.EvalParsedInput(parsed[i%len(parsed)]))
			i++
		}
	})

	engine := pdp.New(pdp.WithLogger(quiet), pdp.WithPIPs(todoPIPs(b)))
	if err := engine.Activate(ctx, todoPolicy(b)); err != nil {
		b.Fatal(err)
	}
	check := func(b *testing.B, d sdk.Decider) {
		b.Helper()
		for _, c := range cases {
			dec, err := d.Decide(ctx, c.req)
			if err != nil || (dec.Effect == pdp.EffectPermit) != c.expected {
				b.Fatalf("Verdict decided %s: %v, %v", c.raw, dec, err)
			}
		}
	}
	b.Run("impl=verdict/input=map", func(b *testing.B) {
		check(b, engine)
		i := 0
		for b.Loop() {
			req, err := sdk.NewAuthZENRequest(cases[i%len(cases)].input)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = engine.Decide(ctx, req)
			i++
		}
	})
	b.Run("impl=verdict/input=parsed", func(b *testing.B) {
		check(b, engine)
		i := 0
		for b.Loop() {
			_, _ = engine.Decide(ctx, cases[i%len(cases)].req)
			i++
		}
	})
	b.Run("impl=verdict-sdk/input=parsed", func(b *testing.B) {
		p, err := sdk.New(ctx, sdk.WithPolicy(todoPolicy(b)), sdk.WithPIPs(todoPIPs(b)), sdk.WithLogger(quiet))
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		check(b, p)
		i := 0
		for b.Loop() {
			_, _ = p.Decide(ctx, cases[i%len(cases)].req)
			i++
		}
	})
	b.Run("impl=verdict-sdk-audited/input=parsed", func(b *testing.B) {
		// With metrics and a decision logger: what a production service pays.
		p, err := sdk.New(ctx, sdk.WithPolicy(todoPolicy(b)), sdk.WithPIPs(todoPIPs(b)), sdk.WithLogger(quiet),
			sdk.WithMetrics(prometheus.NewRegistry()), sdk.WithDecisionLogger(discardLogger{}))
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		check(b, p)
		i := 0
		for b.Loop() {
			_, _ = p.Decide(ctx, cases[i%len(cases)].req)
			i++
		}
	})
}

// BenchmarkMiddleware is the whole HTTP enforcement path: bearer token
// (verified once, then from the token cache), attributes, decision.
func BenchmarkMiddleware(b *testing.B) {
	iss := newIssuer(b)
	p, err := sdk.New(context.Background(), sdk.WithPolicy(routesPolicy(b)), sdk.WithTokenVerifier(iss.verifier(b)), sdk.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	mux := routesMux(sdk.Middleware(p, sdk.WithLogger(quiet)))
	auth := "Bearer " + iss.sign(b, "alice", map[string]any{"scope": "todos:read"})
	req := httptest.NewRequest(http.MethodGet, "/todos/42", nil)
	req.Header.Set("Authorization", auth)
	for b.Loop() {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}

var rbacSizes = []int{100, 1000, 10000}

// rbacEngines caches an engine per policy size: activating 10k rules takes
// long, and BenchmarkHotSwap starts from the same engine.
var rbacEngines struct {
	sync.Mutex
	m map[int]*pdp.Engine
}

func rbacEngine(b *testing.B, n int) *pdp.Engine {
	b.Helper()
	rbacEngines.Lock()
	defer rbacEngines.Unlock()
	if e := rbacEngines.m[n]; e != nil {
		return e
	}
	e := pdp.New(pdp.WithLogger(quiet))
	if err := e.Activate(context.Background(), compileYAML(b, rbacYAML(n), "rbac", 1)); err != nil {
		b.Fatal(err)
	}
	if rbacEngines.m == nil {
		rbacEngines.m = map[int]*pdp.Engine{}
	}
	rbacEngines.m[n] = e
	return e
}

// rbacWorkload asks for the first, middle and last rule, granted and not.
func rbacWorkload(n int) (reqs []*pdp.Request, inputs []ast.Value, want []bool) {
	for _, i := range []int{0, n / 2, n - 1} {
		for _, grant := range []bool{true, false} {
			req, in := rbacRequest(i, grant)
			v, err := ast.InterfaceToValue(in)
			if err != nil {
				panic(err)
			}
			reqs, inputs, want = append(reqs, req), append(inputs, v), append(want, grant)
		}
	}
	return reqs, inputs, want
}

// BenchmarkRBAC measures how decision time grows with the number of rules
// (synthetic RBAC: one rule per resource), for Verdict's compiled XACML and
// for the same rules hand-written in Rego.
func BenchmarkRBAC(b *testing.B) {
	ctx := context.Background()
	for _, n := range rbacSizes {
		reqs, inputs, want := rbacWorkload(n)
		b.Run(fmt.Sprintf("rules=%d/impl=verdict", n), func(b *testing.B) {
			e := rbacEngine(b, n)
			for i, req := range reqs {
				if d, err := e.Decide(ctx, req); err != nil || (d.Effect == pdp.EffectPermit) != want[i] {
					b.Fatalf("request %d: %v, %v", i, d, err)
				}
			}
			i := 0
			for b.Loop() {
				_, _ = e.Decide(ctx, reqs[i%len(reqs)])
				i++
			}
		})
		b.Run(fmt.Sprintf("rules=%d/impl=opa", n), func(b *testing.B) {
			pq, err := rego.New(rego.Query("data.rbac.allow"), rego.Module("rbac.rego", rbacRego(n))).PrepareForEval(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for i, in := range inputs {
				rs, err := pq.Eval(ctx, rego.EvalParsedInput(in))
				if err != nil || len(rs) != 1 || rs[0].Expressions[0].Value != want[i] {
					b.Fatalf("request %d: %v, %v", i, rs, err)
				}
			}
			i := 0
			for b.Loop() {
				_, _ = pq.Eval(ctx, rego.EvalParsedInput(inputs[i%len(inputs)]))
				i++
			}
		})
	}
}

var swapRules = flag.Int("sdk.swaprules", 10000, "rules of the policy BenchmarkHotSwap activates")

// BenchmarkHotSwap activates a large policy (go test ... -args
// -sdk.swaprules=N, default 10k rules) while 2 goroutines decide on the previous revision, as a bundle
// update does in a busy service. ns/op is the time to activate one
// revision; p50/p99 are decision latencies in ns, steady (no swap running,
// same duration as a swap) and during the swap.
func BenchmarkHotSwap(b *testing.B) {
	n := *swapRules
	e := rbacEngine(b, n)
	pol := compileYAML(b, rbacYAML(n), "rbac", 1)
	reqs, _, _ := rbacWorkload(n)
	ctx := context.Background()

	// decideFor runs 2 deciders until stop is closed, returning latencies.
	decideFor := func(stop <-chan struct{}) []time.Duration {
		var (
			mu  sync.Mutex
			all []time.Duration
			wg  sync.WaitGroup
		)
		for g := range 2 {
			wg.Go(func() {
				lat := make([]time.Duration, 0, 1<<16)
				for i := g; ; i++ {
					select {
					case <-stop:
						mu.Lock()
						all = append(all, lat...)
						mu.Unlock()
						return
					default:
					}
					start := time.Now()
					d, err := e.Decide(ctx, reqs[i%len(reqs)])
					lat = append(lat, time.Since(start))
					if err != nil || d == nil {
						b.Errorf("decision during swap: %v", err)
					}
				}
			})
		}
		<-stop
		wg.Wait()
		return all
	}
	var steady, swapping []time.Duration
	var swapTime time.Duration
	rev := e.Active().Revision
	for b.Loop() {
		rev++
		next := withRevision(pol, rev)
		stop := make(chan struct{})
		done := make(chan []time.Duration, 1)
		go func() { done <- decideFor(stop) }()
		start := time.Now()
		if err := e.Activate(ctx, next); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		swapTime += took
		close(stop)
		swapping = append(swapping, <-done...)

		b.StopTimer()
		stop = make(chan struct{})
		go func() { done <- decideFor(stop) }()
		time.Sleep(took)
		close(stop)
		steady = append(steady, <-done...)
		b.StartTimer()
	}
	if e.Active().Revision != rev {
		b.Fatalf("active revision %d, want %d", e.Active().Revision, rev)
	}
	report := func(name string, lat []time.Duration) {
		if len(lat) == 0 {
			return
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2]), "p50-"+name+"-ns")
		b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-"+name+"-ns")
	}
	report("steady", steady)
	report("swap", swapping)
	var decided atomic.Int64
	decided.Add(int64(len(swapping)))
	b.ReportMetric(float64(decided.Load())/swapTime.Seconds(), "decisions/s-swap")
}
