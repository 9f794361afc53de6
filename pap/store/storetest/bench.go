package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pap/store"
)

// benchContent is a revision of realistic size: a few policy files and
// their compiled modules, about 100 KiB in all.
func benchContent(n int) store.Content {
	rule := strings.Repeat(`<Rule RuleId="r" Effect="Permit"><Target/></Rule>`, 200)
	rego := strings.Repeat("allow if { input.action.name == \"read\" }\n", 200)
	c := store.Content{RootPolicyID: "root", Rego: map[string]string{}, Data: fmt.Appendf(nil, `{"n":%d}`, n)}
	for i := range 4 {
		c.Sources = append(c.Sources, store.Source{
			Name:    fmt.Sprintf("policies/p%d.xml", i),
			Format:  "xacml-xml",
			Content: fmt.Appendf(nil, `<Policy PolicyId="p%d" Version="%d">%s</Policy>`, i, n, rule),
		})
		c.Rego[fmt.Sprintf("verdict/p%d.rego", i)] = fmt.Sprintf("package verdict.p%d\n\n%s", i, rego)
	}
	return c
}

// Benchmark measures Create (one push on top of the head) and Get (loading
// a revision with its content). newStore must return a new, empty store
// and close it when the benchmark ends.
func Benchmark(b *testing.B, newStore func(b *testing.B) store.Store) {
	b.Run("Create", func(b *testing.B) {
		s := newStore(b)
		contents := []store.Content{benchContent(0), benchContent(1)}
		var parent int64
		b.ReportAllocs()
		for b.Loop() {
			d := store.Draft{Service: "bench", Parent: parent, Content: contents[parent%2], Author: "bench"}
			rev, err := s.Create(b.Context(), d)
			if err != nil {
				b.Fatal(err)
			}
			parent = rev.Number
		}
	})
	b.Run("Get", func(b *testing.B) {
		s := newStore(b)
		const revisions = 50
		for i := range revisions {
			d := store.Draft{Service: "bench", Parent: int64(i), Content: benchContent(i), Author: "bench"}
			if _, err := s.Create(b.Context(), d); err != nil {
				b.Fatal(err)
			}
		}
		var n int64
		b.ReportAllocs()
		for b.Loop() {
			rev, err := s.Get(b.Context(), "bench", n%revisions+1)
			if err != nil {
				b.Fatal(err)
			}
			if len(rev.Content.Sources) != 4 {
				b.Fatalf("revision %d has %d sources", rev.Number, len(rev.Content.Sources))
			}
			n++
		}
	})
}
