package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
	"github.com/verdict-authz/verdict/xacml"
)

// compiledRevision compiles policy files into a stored-revision value, as
// the PAP would store it.
func compiledRevision(tb testing.TB, service string, number int64, files map[string][]byte) store.Revision {
	tb.Helper()
	var policies []xacml.Evaluable
	var sources []store.Source
	for name, data := range files {
		var e xacml.Evaluable
		var err error
		if strings.HasSuffix(name, ".xml") {
			e, err = xacml.ParseXML(name, data)
		} else {
			e, err = xacml.ParseYAML(name, data)
		}
		if err != nil {
			tb.Fatal(err)
		}
		policies = append(policies, e)
		sources = append(sources, store.Source{Name: name, Format: "xacml", Content: data})
	}
	c, err := build.CompileRoot(policies, "")
	if err != nil {
		tb.Fatal(err)
	}
	pol := c.EnginePolicy(service, uint64(number))
	docs, err := pol.BundleData()
	if err != nil {
		tb.Fatal(err)
	}
	data, err := publish.EncodeData(docs)
	if err != nil {
		tb.Fatal(err)
	}
	content := store.Content{Sources: sources, RootPolicyID: c.Output.RootID, Rego: c.Output.Modules, Data: data}
	return store.Revision{
		Summary: store.Summary{Service: service, Number: number, Parent: number - 1, Digest: content.Digest(), Author: "bench", CreatedAt: time.Now().UTC()},
		Content: content,
	}
}

func todoFiles(tb testing.TB) map[string][]byte {
	data, err := os.ReadFile(filepath.Join("..", "policies", "authzen-todo", "todo.xml"))
	if err != nil {
		tb.Fatal(err)
	}
	return map[string][]byte{"todo.xml": data}
}

// rulesFiles is a policy of n rules, each permitting one action on one
// resource type: the "1k-rule bundle" of the activation benchmark.
func rulesFiles(n int) map[string][]byte {
	var b strings.Builder
	b.WriteString("policy: urn:bench:rules\ncombining: deny-unless-permit\nrules:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - id: r%d\n    effect: Permit\n    target:\n      - {match: string-equal, value: action-%d, attr: {category: action, id: name}}\n      - {match: string-equal, value: type-%d, attr: {category: resource, id: type}}\n", i, i, i%50)
	}
	return map[string][]byte{"rules.yaml": []byte(b.String())}
}

// deliveryObserver records when each PDP verified and activated each
// revision.
type deliveryObserver struct {
	mu       sync.Mutex
	verified map[uint64][]time.Time
	active   map[uint64][]time.Time
	cond     *sync.Cond
}

func newDeliveryObserver() *deliveryObserver {
	o := &deliveryObserver{verified: map[uint64][]time.Time{}, active: map[uint64][]time.Time{}}
	o.cond = sync.NewCond(&o.mu)
	return o
}

func (o *deliveryObserver) Verified(m bundle.Manifest) {
	o.mu.Lock()
	o.verified[m.Revision] = append(o.verified[m.Revision], time.Now())
	o.mu.Unlock()
}

func (o *deliveryObserver) Activated(m bundle.Manifest) {
	o.mu.Lock()
	o.active[m.Revision] = append(o.active[m.Revision], time.Now())
	o.mu.Unlock()
	o.cond.Broadcast()
}

// wait blocks until n PDPs activated rev and returns the last
// verification and activation times.
func (o *deliveryObserver) wait(rev uint64, n int, deadline time.Time) (verified, active time.Time, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.active[rev]) < n {
		if time.Now().After(deadline) {
			return time.Time{}, time.Time{}, false
		}
		o.mu.Unlock()
		time.Sleep(time.Millisecond)
		o.mu.Lock()
	}
	return slices.MaxFunc(o.verified[rev], time.Time.Compare), slices.MaxFunc(o.active[rev], time.Time.Compare), true
}

// BenchmarkDelivery measures a push (build, sign, publish to JetStream)
// until the last of N embedded PDPs, each on its own NATS connection, has
// received and verified the revision (verified-p50/p99) and has compiled
// and swapped it in (active-p50/p99).
//
// "group" PDPs share a bundlesource.Group and a pdp.Cache, as the PDPs
// embedded in one process should: each archive is parsed and its signature
// checked once, compiles are gated so that they cannot starve delivery,
// and each content is compiled once for all of them. "alone" PDPs
// share nothing, as if each were its own process, except that here they
// all compete for the same CPUs. N=1000 (group only) runs with
// VERDICT_BENCH_1000=1 and needs about 3 file descriptors per PDP.
func BenchmarkDelivery(b *testing.B) {
	sizes := []int{10, 100}
	if os.Getenv("VERDICT_BENCH_1000") == "1" {
		sizes = append(sizes, 1000)
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("N=%d/group", n), func(b *testing.B) { benchDelivery(b, n, bundlesource.NewGroup(1), pdp.NewCache(4)) })
		if n <= 100 {
			b.Run(fmt.Sprintf("N=%d/alone", n), func(b *testing.B) { benchDelivery(b, n, nil, nil) })
		}
	}
}

func benchDelivery(b *testing.B, n int, group *bundlesource.Group, cache *pdp.Cache) {
	var engineOpts []pdp.Option
	if cache != nil {
		engineOpts = append(engineOpts, pdp.WithCache(cache))
	}
	url := natstest.URL(b)
	ns := newNamespace(b, url)
	key, _ := bundle.GenerateSigningKey()
	ctx := context.Background()
	pub, err := publish.New(ctx, dial(b, url, "bench-pap"), key, publish.WithSubjectPrefix(ns.prefix), publish.WithStream(ns.stream), publish.WithBucket(ns.bucket))
	if err != nil {
		b.Fatal(err)
	}
	files := todoFiles(b)
	rev := compiledRevision(b, "bench", 1, files)
	if _, err := pub.Publish(ctx, rev); err != nil {
		b.Fatal(err)
	}
	trust, _ := bundle.NewTrustStore([]bundle.PublicKey{key.PublicKey()})
	obs := newDeliveryObserver()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	// Start the PDPs a few at a time: a thousand consumer creations at
	// once only time out against the JetStream API and retry.
	starting := make(chan struct{}, 32)
	setup := time.Now()
	for i := range n {
		wg.Add(1)
		starting <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-starting }()
			sctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
			defer cancel()
			src, err := bundlesource.New(sctx, dial(b, url, fmt.Sprintf("pdp-%d", i)), pdp.New(engineOpts...),
				bundlesource.WithService("bench"), bundlesource.WithTrustStore(trust), bundlesource.WithInstance(fmt.Sprintf("pdp-%d", i)),
				bundlesource.WithSubjectPrefix(ns.prefix), bundlesource.WithStream(ns.stream), bundlesource.WithObserver(obs),
				bundlesource.WithGroup(group))
			if err != nil {
				errs <- err
				return
			}
			b.Cleanup(func() { src.Close() })
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.Logf("%d PDPs started in %s", n, time.Since(setup).Round(time.Millisecond))

	var verified, active []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rev.Number++
		rev.Parent++
		start := time.Now()
		if _, err := pub.Publish(ctx, rev); err != nil {
			b.Fatal(err)
		}
		v, a, ok := obs.wait(uint64(rev.Number), n, time.Now().Add(2*time.Minute))
		if !ok {
			b.Fatalf("revision %d did not reach %d PDPs", rev.Number, n)
		}
		verified = append(verified, v.Sub(start))
		active = append(active, a.Sub(start))
	}
	b.StopTimer()
	report(b, "verified", verified)
	report(b, "active", active)
}

// report adds p50 and p99 of ds, in milliseconds, to the benchmark line.
func report(b *testing.B, name string, ds []time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	pct := func(p float64) float64 {
		i := int(p*float64(len(ds))+0.5) - 1
		return float64(ds[min(max(i, 0), len(ds)-1)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), name+"-p50-ms")
	b.ReportMetric(pct(0.99), name+"-p99-ms")
}

// BenchmarkActivation measures what each PDP spends on a new bundle once
// it has the bytes: open and verify the archive, compile the Rego and swap
// it in, for the Todo policy and a 1,000-rule policy.
func BenchmarkActivation(b *testing.B) {
	for name, files := range map[string]map[string][]byte{"todo": todoFiles(b), "rules-1k": rulesFiles(1000)} {
		b.Run(name, func(b *testing.B) {
			key, _ := bundle.GenerateSigningKey()
			trust, _ := bundle.NewTrustStore([]bundle.PublicKey{key.PublicKey()})
			rev := compiledRevision(b, "bench", 1, files)
			unsigned, err := publish.Build(rev)
			if err != nil {
				b.Fatal(err)
			}
			signed, err := unsigned.Sign(key)
			if err != nil {
				b.Fatal(err)
			}
			data, _ := signed.MarshalBinary()
			engine := pdp.New()
			ctx := context.Background()
			b.ReportMetric(float64(len(data)), "bundle-bytes")
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				bb, err := bundle.Open(bytes.NewReader(data), trust, bundle.WithService("bench"))
				if err != nil {
					b.Fatal(err)
				}
				p, err := pdp.PolicyFromBundle(bb)
				if err != nil {
					b.Fatal(err)
				}
				if err := engine.Activate(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
