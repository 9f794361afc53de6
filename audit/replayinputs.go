package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pip"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// ErrRecordedPIPFailure is what a replayed PIP fetch returns when the
// recorded fetch failed: the replay fails the same way, so a decision
// that was Indeterminate because a PIP was down replays as Indeterminate,
// not as a decision on a missing attribute.
var ErrRecordedPIPFailure = errors.New("audit: recorded PIP failure")

// replayKeyPrefix prefixes the synthetic request attribute that carries
// the keys a recorded source was asked for: records name the key value
// but not which request attribute held it, so the replay request carries
// them under an attribute of its own that no policy reads.
const replayKeyPrefix = "urn:verdict:audit:replay:pip-key:"

// replayInputs is what the engine needs to re-evaluate a record: its
// request, and PIP sources that answer every fetch from the record, with
// the recorded values or the recorded failure.
type replayInputs struct {
	request *pdp.Request
	pips    *pip.Set

	mu sync.Mutex
	// unrecorded lists the fetches the replay made that the record does
	// not hold (another revision needing other attributes): they were
	// answered with an empty bag.
	unrecorded []string
}

// recordedSource answers fetches from the records of one source.
type recordedSource struct {
	in      *replayInputs
	name    string
	records []pip.Record
}

// newReplayInputs rebuilds the inputs of rec. The request is the recorded
// one (after masking); PIP values are not added to it but served by the
// recorded sources, so the engine reaches them exactly as it did the first
// time (same designated types, same failures).
func newReplayInputs(rec decisionlog.Record) (*replayInputs, error) {
	in := &replayInputs{request: &pdp.Request{ReturnPolicyIDs: len(rec.PolicyIDs) > 0}}
	in.request.Attributes = append(in.request.Attributes, rec.Request...)
	type sourceKey struct{ name, category string }
	bySource := map[sourceKey]*recordedSource{}
	var order []sourceKey
	names := map[string]bool{}
	for _, r := range rec.PIPValues {
		k := sourceKey{r.Source, r.Category}
		src := bySource[k]
		if src == nil {
			name := r.Source
			if names[name] {
				name = r.Source + " " + r.Category
			}
			names[name] = true
			src = &recordedSource{in: in, name: name}
			bySource[k] = src
			order = append(order, k)
		}
		src.records = append(src.records, r)
	}
	sources := make([]pip.Source, 0, len(order))
	for _, k := range order {
		src := bySource[k]
		keyID := replayKeyPrefix + src.name
		var seen []string
		for _, r := range src.records {
			if !slices.Contains(seen, r.Key) {
				seen = append(seen, r.Key)
				in.request.Add(k.category, keyID, pdp.Value{Type: "string", Lexical: r.Key})
			}
		}
		sources = append(sources, pip.Source{Name: src.name, Provider: src, Description: pip.Description{
			Category: k.category, Key: pip.AttributeRef{Category: k.category, ID: keyID},
		}})
	}
	set, err := pip.NewSet(sources...)
	if err != nil {
		return nil, fmt.Errorf("audit: replay PIP sources: %w", err)
	}
	in.pips = set
	return in, nil
}

// Fetch answers q from the records: the recorded values of each asked
// attribute, the recorded failure when the fetch failed, and an empty bag
// (noted) when the decision never fetched it.
func (s *recordedSource) Fetch(_ context.Context, q pip.Query) (pip.Values, error) {
	out := pip.Values{}
	if len(q.Attributes) == 0 {
		for _, r := range s.records {
			if r.Category != q.Category || r.Key != q.Key {
				continue
			}
			if r.Error != "" {
				return nil, fmt.Errorf("%w: %s", ErrRecordedPIPFailure, r.Error)
			}
			for id, bag := range r.Values {
				out[id] = append(out[id], bag...)
			}
		}
		return out, nil
	}
	for _, a := range q.Attributes {
		r, ok := s.find(q.Category, q.Key, a)
		switch {
		case !ok:
			s.in.note(fmt.Sprintf("%s %s of %s (source %s)", q.Category, a, q.Key, s.name))
		case r.Error != "":
			return nil, fmt.Errorf("%w: %s", ErrRecordedPIPFailure, r.Error)
		default:
			if bag := r.Values[a]; len(bag) > 0 {
				out[a] = bag
			}
		}
	}
	return out, nil
}

// find returns the record of the fetch that answered attribute a of the
// entity: one that asked for a by name, else one that asked for everything.
func (s *recordedSource) find(category, key, a string) (pip.Record, bool) {
	var all *pip.Record
	for i, r := range s.records {
		if r.Category != category || r.Key != key {
			continue
		}
		if slices.Contains(r.Attributes, a) {
			return r, true
		}
		if len(r.Attributes) == 0 && all == nil {
			all = &s.records[i]
		}
	}
	if all != nil {
		return *all, true
	}
	return pip.Record{}, false
}

func (in *replayInputs) note(what string) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !slices.Contains(in.unrecorded, what) {
		in.unrecorded = append(in.unrecorded, what)
	}
}

// unrecordedDifferences reports the attributes the replay needed but the
// record does not hold, so that a changed decision is not mistaken for a
// policy change when it comes from a missing input.
func (in *replayInputs) unrecordedDifferences() []*verdictv1.ReplayDifference {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]*verdictv1.ReplayDifference, 0, len(in.unrecorded))
	for _, what := range in.unrecorded {
		out = append(out, &verdictv1.ReplayDifference{Field: "pip_input " + what, Recorded: "not fetched", Replayed: "empty bag (not in the record)"})
	}
	return out
}
