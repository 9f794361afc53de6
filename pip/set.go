package pip

import (
	"context"
	"fmt"
)

// Source is one configured provider: its name (unique in a Set; it labels
// memo keys, decision-log records and errors), the provider (usually
// already wrapped with Wrap) and where it fits.
type Source struct {
	Name     string
	Provider Provider
	// Description says which category the provider supplies and which
	// request attribute is the key. Leave it zero to take it from the
	// provider itself (a Describer anywhere in its wrapper chain, such as
	// jsonfile and http providers); it is then asked afresh each time, so a
	// file that reloads with new attributes is routed correctly.
	Description Description
}

// Set is the engine's routing table: for "category C, attribute A" it
// knows which sources may answer and how to build their queries.
type Set struct {
	sources []setSource
}

type setSource struct {
	Source
	describer Describer
}

// describe returns the source's current description.
func (s setSource) describe() Description {
	if s.describer != nil {
		return s.describer.Describe()
	}
	return s.Description
}

// NewSet checks the sources (a name, unique; a provider; a description
// with a key attribute, given or from a Describer) and builds the routing
// table. Sources keep their order, which is the order Resolve asks them.
func NewSet(sources ...Source) (*Set, error) {
	set := &Set{sources: make([]setSource, 0, len(sources))}
	seen := make(map[string]bool, len(sources))
	for i, src := range sources {
		switch {
		case src.Name == "":
			return nil, fmt.Errorf("%w: source %d has no name", ErrInvalidSource, i)
		case seen[src.Name]:
			return nil, fmt.Errorf("%w: duplicate source name %q", ErrInvalidSource, src.Name)
		case src.Provider == nil:
			return nil, fmt.Errorf("%w: source %q has no provider", ErrInvalidSource, src.Name)
		}
		seen[src.Name] = true
		ss := setSource{Source: src}
		if src.Description.Key.ID == "" {
			d, ok := As[Describer](src.Provider)
			if !ok {
				return nil, fmt.Errorf("%w: source %q has no description and its provider does not describe itself", ErrInvalidSource, src.Name)
			}
			ss.describer = d
		}
		if d := ss.describe(); d.Key.Category == "" || d.Key.ID == "" {
			return nil, fmt.Errorf("%w: source %q: key attribute needs a category and an id", ErrInvalidSource, src.Name)
		}
		set.sources = append(set.sources, ss)
	}
	return set, nil
}

// Sources returns the sources with their current descriptions, for
// discovery and for the search APIs (each provider's Lister is reached with
// As).
func (s *Set) Sources() []Source {
	out := make([]Source, len(s.sources))
	for i, ss := range s.sources {
		out[i] = ss.Source
		out[i].Description = ss.describe()
	}
	return out
}

// Candidates returns the sources that may supply the attribute, in order.
func (s *Set) Candidates(category, attribute string) []Source {
	var out []Source
	for _, ss := range s.sources {
		if d := ss.describe(); d.Supplies(category, attribute) {
			src := ss.Source
			src.Description = d
			out = append(out, src)
		}
	}
	return out
}

// Resolve is the question the engine asks when a policy needs an attribute
// the request lacks: "category C, attribute A: what bag?". For each source
// that may supply it, keys returns the request's values of that source's
// key attribute, in lexical form (see Lexical); Resolve fetches through m
// (nil: no memo) once per distinct key and returns the union of the bags.
// A source whose key attribute the request lacks contributes nothing.
//
// An empty bag with a nil error means no source has a value. The bag may
// be shared with the memo and cache and must not be modified in place. Any fetch
// failure is returned as an error (naming the source), and the engine must
// then make what needed the attribute Indeterminate; it is never an empty
// bag.
func (s *Set) Resolve(ctx context.Context, m *Memo, category, attribute string, keys func(AttributeRef) []string) ([]any, error) {
	return s.ResolveFrom(ctx, m, category, attribute, keysFunc(keys))
}

// KeySource gives the request's values of a key attribute, in lexical form
// (see Lexical). The slice returned may be reused by the next call: the
// engine answers from a buffer of its decision, so resolving an attribute
// allocates nothing more than the fetch itself.
type KeySource interface {
	Keys(ref AttributeRef) []string
}

type keysFunc func(AttributeRef) []string

func (f keysFunc) Keys(ref AttributeRef) []string { return f(ref) }

// ResolveFrom is Resolve with the request's keys given by a KeySource.
func (s *Set) ResolveFrom(ctx context.Context, m *Memo, category, attribute string, keys KeySource) ([]any, error) {
	var bag []any
	for _, ss := range s.sources {
		d := ss.describe()
		if !d.Supplies(category, attribute) {
			continue
		}
		src := ss.Source
		src.Description = d
		ks := keys.Keys(d.Key)
		for i, k := range ks {
			if contains(ks[:i], k) {
				continue
			}
			got, err := m.FetchAttribute(ctx, src, category, k, attribute)
			if err != nil {
				return nil, err
			}
			if bag == nil {
				// Share the provider's bag; the full slice expression makes
				// a later append copy instead of writing into it.
				bag = got[:len(got):len(got)]
				continue
			}
			bag = append(bag, got...)
		}
	}
	return bag, nil
}
