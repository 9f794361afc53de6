package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"maps"
	"slices"
	"strings"
)

// Source is one policy file exactly as the author pushed it, kept so that a
// revision can be shown, diffed and recompiled later.
type Source struct {
	// Name is the file name as pushed (e.g. "policies/orders.xml"); unique
	// within a revision.
	Name string
	// Format says how to parse Content (e.g. "xacml-xml", "xacml-yaml");
	// the store keeps it opaque.
	Format string
	// Content holds the file's bytes.
	Content []byte
}

// Content is what a revision holds: the pushed sources and what the PAP
// compiled from them. It is the part of a revision that the digest covers.
type Content struct {
	// Sources are the pushed policy files, sorted by name once stored.
	Sources []Source
	// RootPolicyID names the service's single root PolicySet or Policy.
	RootPolicyID string
	// Rego maps module path to compiled Rego source: what PDPs evaluate.
	Rego map[string]string
	// Data is the JSON data document compiled alongside the Rego, nil when
	// there is none.
	Data []byte
}

// Canonical returns a deep copy of c in the form the store keeps: sources
// sorted by name, and empty data and file contents as nil. Stored revisions never share memory
// with callers, so nobody can change one after the fact.
func (c Content) Canonical() Content {
	out := Content{RootPolicyID: c.RootPolicyID}
	if len(c.Sources) > 0 {
		out.Sources = make([]Source, len(c.Sources))
		for i, s := range c.Sources {
			out.Sources[i] = Source{Name: s.Name, Format: s.Format}
			if len(s.Content) > 0 {
				out.Sources[i].Content = bytes.Clone(s.Content)
			}
		}
		slices.SortFunc(out.Sources, func(a, b Source) int { return strings.Compare(a.Name, b.Name) })
	}
	if len(c.Rego) > 0 {
		out.Rego = maps.Clone(c.Rego)
	}
	if len(c.Data) > 0 {
		out.Data = bytes.Clone(c.Data)
	}
	return out
}

// Digest returns "sha256:" and the hex SHA-256 of the content in canonical
// form. Equal content gives equal digests whatever the order of sources or
// map iteration, so the PAP can tell an unchanged push and a PDP can check
// that it runs what the store holds.
//
// The hashed encoding is fixed (digests are stored): every field is its
// byte length as a big-endian uint64 followed by its bytes, and lists are
// their length as a big-endian uint64 followed by their items. In order:
// the field "verdict.pap.content.v1"; the list of sources sorted by name,
// each name, format, content; the root policy id; the list of Rego modules
// sorted by path, each path, source; the data.
func (c Content) Digest() string {
	c = c.Canonical()
	h := sha256.New()
	writeField(h, []byte("verdict.pap.content.v1"))
	writeCount(h, len(c.Sources))
	for _, s := range c.Sources {
		writeField(h, []byte(s.Name))
		writeField(h, []byte(s.Format))
		writeField(h, s.Content)
	}
	writeField(h, []byte(c.RootPolicyID))
	paths := slices.Sorted(maps.Keys(c.Rego))
	writeCount(h, len(paths))
	for _, p := range paths {
		writeField(h, []byte(p))
		writeField(h, []byte(c.Rego[p]))
	}
	writeField(h, c.Data)
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// writeField writes b length-prefixed so that no two different field
// sequences hash the same bytes.
func writeField(h hash.Hash, b []byte) {
	writeCount(h, len(b))
	h.Write(b)
}

func writeCount(h hash.Hash, n int) {
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], uint64(n))
	h.Write(buf[:])
}
