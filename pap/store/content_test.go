package store_test

import (
	"testing"

	"github.com/verdict-authz/verdict/pap/store"
)

func sample() store.Content {
	return store.Content{
		Sources: []store.Source{
			{Name: "b.xml", Format: "xacml-xml", Content: []byte("<PolicySet/>")},
			{Name: "a.yaml", Format: "xacml-yaml", Content: []byte("policy: a\n")},
		},
		RootPolicyID: "root",
		Rego:         map[string]string{"x.rego": "package x\n", "y.rego": "package y\n"},
		Data:         []byte(`{"k":1}`),
	}
}

// TestDigestIsStable pins the digest of a known content: digests are
// stored and compared across releases, so the encoding must never change
// by accident.
func TestDigestIsStable(t *testing.T) {
	const want = "sha256:6a8c371afd2f40fa94dba236069f2771bc17daf1fc8fe3db9e3c02689bd2dd73" // computed independently in Python from the documented encoding
	if got := sample().Digest(); got != want {
		t.Fatalf("Digest() = %s, want %s", got, want)
	}
}

func TestDigestIgnoresOrderAndEmptyValues(t *testing.T) {
	a := sample()
	b := sample()
	b.Sources[0], b.Sources[1] = b.Sources[1], b.Sources[0]
	b.Rego = map[string]string{"y.rego": "package y\n", "x.rego": "package x\n"}
	if a.Digest() != b.Digest() {
		t.Errorf("digest depends on source order")
	}
	c, d := sample(), sample()
	c.Data, d.Data = nil, []byte{}
	if c.Digest() != d.Digest() {
		t.Errorf("nil and empty data digest differently")
	}
}

func TestDigestCoversEveryField(t *testing.T) {
	base := sample().Digest()
	changes := map[string]func(c *store.Content){
		"source name":    func(c *store.Content) { c.Sources[0].Name = "c.xml" },
		"source format":  func(c *store.Content) { c.Sources[0].Format = "xacml-yaml" },
		"source content": func(c *store.Content) { c.Sources[0].Content = []byte("<PolicySet />") },
		"extra source":   func(c *store.Content) { c.Sources = append(c.Sources, store.Source{Name: "c", Format: "f"}) },
		"root policy":    func(c *store.Content) { c.RootPolicyID = "root2" },
		"Rego path":      func(c *store.Content) { c.Rego["z.rego"] = c.Rego["x.rego"]; delete(c.Rego, "x.rego") },
		"Rego source":    func(c *store.Content) { c.Rego["x.rego"] = "package x2\n" },
		"data":           func(c *store.Content) { c.Data = []byte(`{"k":2}`) },
		"no data":        func(c *store.Content) { c.Data = nil },
		// Moving bytes across a field boundary must change the digest.
		"name/format boundary": func(c *store.Content) {
			c.Sources[0].Name, c.Sources[0].Format = "b.xmlx", "acml-xml"
		},
	}
	seen := map[string]string{base: "base"}
	for name, change := range changes {
		c := sample()
		change(&c)
		d := c.Digest()
		if other, dup := seen[d]; dup {
			t.Errorf("changing %s gives the same digest as %s", name, other)
		}
		seen[d] = name
	}
}

func TestCanonicalCopiesAndSorts(t *testing.T) {
	orig := sample()
	c := orig.Canonical()
	if c.Sources[0].Name != "a.yaml" || c.Sources[1].Name != "b.xml" {
		t.Fatalf("Canonical sources in order %q, %q, want a.yaml, b.xml", c.Sources[0].Name, c.Sources[1].Name)
	}
	c.Sources[0].Content[0] = 'X'
	c.Rego["x.rego"] = "changed"
	c.Data[0] = 'X'
	if orig.Sources[1].Content[0] == 'X' || orig.Rego["x.rego"] == "changed" || orig.Data[0] == 'X' {
		t.Fatal("Canonical shares memory with its receiver")
	}
	if orig.Sources[0].Name != "b.xml" {
		t.Fatal("Canonical reordered its receiver's sources")
	}
	empty := store.Content{Sources: []store.Source{{Name: "e", Format: "f", Content: []byte{}}}, Data: []byte{}, Rego: map[string]string{}}.Canonical()
	if empty.Sources[0].Content != nil || empty.Data != nil || empty.Rego != nil {
		t.Fatalf("Canonical keeps empty values as non-nil: %+v", empty)
	}
}
