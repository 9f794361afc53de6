package bundle_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

// largeContents returns a bundle of about 1 MiB of Rego in 100 modules,
// rules varied enough that compression is realistic rather than trivial.
func largeContents() bundle.Contents {
	c := contents("orders", 1)
	c.Modules = make(map[string]string, 100)
	for m := range 100 {
		var sb strings.Builder
		fmt.Fprintf(&sb, "package verdict.policies.p%03d\n\nimport rego.v1\n\n", m)
		for r := 0; sb.Len() < 10<<10; r++ {
			fmt.Fprintf(&sb, "rule_%d_%d if {\n\tinput.subject.role == %q\n\tinput.resource.id == \"res-%d-%d\"\n\tcount(input.action.name) > %d\n}\n\n",
				m, r, []string{"admin", "editor", "viewer", "auditor"}[r%4], m*31+r, r*7, r%13)
		}
		c.Modules[fmt.Sprintf("policies/p%03d.rego", m)] = sb.String()
	}
	return c
}

// regoBytes is the total size of c's modules.
func regoBytes(c bundle.Contents) int64 {
	var n int64
	for _, src := range c.Modules {
		n += int64(len(src))
	}
	return n
}

// BenchmarkSign measures the producer: digest every file, sign the
// manifest, and serialize the archive to publish.
func BenchmarkSign(b *testing.B) {
	k := newKey(b)
	c := largeContents()
	b.SetBytes(regoBytes(c))
	b.ReportAllocs()
	for b.Loop() {
		u, err := bundle.New(c)
		if err != nil {
			b.Fatal(err)
		}
		s, err := u.Sign(k)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures the consumer: decompress, check every digest
// and verify the signature, as a PDP does before activating.
func BenchmarkVerify(b *testing.B) {
	k := newKey(b)
	c := largeContents()
	data := archive(b, build(b, c, k))
	trust := trustOf(b, k)
	b.SetBytes(regoBytes(c))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := bundle.Open(bytes.NewReader(data), trust, bundle.WithService("orders")); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "archive-bytes")
}

// BenchmarkSignatureOnly isolates the Ed25519 check of an already parsed
// bundle, to show how little of BenchmarkVerify is cryptography.
func BenchmarkSignatureOnly(b *testing.B) {
	k := newKey(b)
	bd := build(b, largeContents(), k)
	trust := trustOf(b, k)
	b.ReportAllocs()
	for b.Loop() {
		if err := bd.Verify(trust); err != nil {
			b.Fatal(err)
		}
	}
}
