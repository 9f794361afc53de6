package build_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/xacml"
)

var synthSizes = []int{100, 1000, 10000}

var synthShapes = []struct {
	name string
	gen  func(testing.TB, int) []xacml.Evaluable
}{{"rbac", synthRBAC}, {"abac", synthABAC}}

// BenchmarkSynthDecide measures one decision against synthetic policy sets
// of 100, 1,000 and 10,000 rules; the target index keeps it flat.
func BenchmarkSynthDecide(b *testing.B) {
	ctx := context.Background()
	for _, shape := range synthShapes {
		for _, n := range synthSizes {
			b.Run(fmt.Sprintf("%s/rules=%d", shape.name, n), func(b *testing.B) {
				e, _ := engineFor(b, shape.gen(b, n))
				i := n / 2
				req := synthRequest(i, i%50, 4, "read")
				d, err := e.Decide(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				if d.Effect != pdp.EffectPermit {
					b.Fatalf("benchmark request is not permitted: %s %s", d.Effect, d.Status.Code)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := e.Decide(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSynthCompile measures check + compile to Rego + OPA preparation
// (what activating a new revision costs) at each size.
func BenchmarkSynthCompile(b *testing.B) {
	ctx := context.Background()
	for _, shape := range synthShapes {
		for _, n := range synthSizes {
			b.Run(fmt.Sprintf("%s/rules=%d", shape.name, n), func(b *testing.B) {
				policies := shape.gen(b, n)
				b.ResetTimer()
				for b.Loop() {
					c, err := build.Compile(policies, policies[0])
					if err != nil {
						b.Fatal(err)
					}
					if err := pdp.New().Activate(ctx, c.EnginePolicy("synth", 1)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
