package publish

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"

	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pdp/bundle"
)

// EncodeData packs the bundle data documents of a compiled policy (path →
// JSON document, as pdp.Policy.BundleData returns them) into the single
// JSON document a store.Content keeps: an object keyed by path.
func EncodeData(files map[string][]byte) ([]byte, error) {
	if len(files) == 0 {
		return nil, nil
	}
	obj := make(map[string]json.RawMessage, len(files))
	for path, doc := range files {
		if !json.Valid(doc) {
			return nil, fmt.Errorf("publish: data document %q is not valid JSON", path)
		}
		obj[path] = json.RawMessage(doc)
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("publish: encoding data documents: %w", err)
	}
	return out, nil
}

// DecodeData is the inverse of EncodeData.
func DecodeData(data []byte) (map[string][]byte, error) {
	if len(data) == 0 {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, fmt.Errorf("publish: stored data is not an object of documents: %w", err)
	}
	out := make(map[string][]byte, len(obj))
	for path, doc := range obj {
		out[path] = []byte(doc)
	}
	return out, nil
}

// Contents is the bundle contents of a stored revision: its compiled Rego,
// data documents and sources, with the revision's number, author and
// message as signed metadata. The build time is the revision's creation
// time, so rebuilding a revision always gives the same bytes.
func Contents(rev store.Revision) (bundle.Contents, error) {
	if rev.Number < 1 {
		return bundle.Contents{}, fmt.Errorf("publish: revision number %d", rev.Number)
	}
	data, err := DecodeData(rev.Content.Data)
	if err != nil {
		return bundle.Contents{}, err
	}
	sources := make(map[string][]byte, len(rev.Content.Sources))
	for _, s := range rev.Content.Sources {
		sources[s.Name] = s.Content
	}
	md := map[string]string{
		"author":       rev.Author,
		"store_digest": rev.Digest,
		"parent":       strconv.FormatInt(rev.Parent, 10),
	}
	if rev.Message != "" {
		md["message"] = rev.Message
	}
	if rev.RollbackOf != 0 {
		md["rollback_of"] = strconv.FormatInt(rev.RollbackOf, 10)
	}
	return bundle.Contents{
		Service:      rev.Service,
		Revision:     uint64(rev.Number),
		RootPolicyID: rev.Content.RootPolicyID,
		CreatedAt:    rev.CreatedAt,
		Modules:      maps.Clone(rev.Content.Rego),
		Data:         data,
		Sources:      sources,
		Metadata:     md,
	}, nil
}

// Build returns the unsigned bundle of a stored revision. Its Digest is
// the one PDPs report in heartbeats once they run the revision.
func Build(rev store.Revision) (*bundle.Bundle, error) {
	c, err := Contents(rev)
	if err != nil {
		return nil, err
	}
	b, err := bundle.New(c)
	if err != nil {
		return nil, fmt.Errorf("publish: %s revision %d: %w", rev.Service, rev.Number, err)
	}
	return b, nil
}
