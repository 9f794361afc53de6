package pip

import "context"

// Provider supplies attributes of a category for one entity. It is what a
// service implements to feed the policies that protect it; the engine calls
// it only when a policy needs an attribute the request did not carry.
//
// Fetch returns the wanted attributes of the entity named by q.Key. An
// unknown entity or attribute is not an error: return an empty (or nil)
// Values and a nil error. Return an error only when the answer could not be
// obtained (the backend is down, the response was malformed, ctx ended):
// the engine then makes what needed the attribute Indeterminate.
//
// Fetch may be called concurrently. The Values returned are treated as
// read-only by every caller and may be shared (cached, memoised), so a
// provider must not modify them after returning.
type Provider interface {
	Fetch(ctx context.Context, q Query) (Values, error)
}

// ProviderFunc lets a plain function serve as a Provider, so that a service
// can hand the engine a closure over its own store.
type ProviderFunc func(ctx context.Context, q Query) (Values, error)

// Fetch calls f.
func (f ProviderFunc) Fetch(ctx context.Context, q Query) (Values, error) {
	return f(ctx, q)
}

// Query is one question to a provider: "for the entity of Category whose
// key attribute has the value Key, give me these attributes".
type Query struct {
	// Category is the full XACML category URN of the attributes wanted
	// (see CategoryAccessSubject and friends).
	Category string
	// Key is the lexical form of the key attribute's value (see Lexical):
	// the provider's Description says which attribute that is. When the
	// request's key attribute is a bag of several values, the engine asks
	// once per value and unions the bags.
	Key string
	// Attributes lists the attribute ids wanted, so that one call can fetch
	// several. Nil or empty means every attribute the provider has for the
	// entity. Providers may return more than asked; callers ignore extras.
	Attributes []string
}

// Values maps an attribute id to its bag of values. A missing id and an
// empty bag mean the same thing: the provider has no value for it.
type Values map[string][]any

// AttributeRef names an attribute by category and id; it is how a provider
// says which request attribute identifies the entity it describes.
type AttributeRef struct {
	// Category is the full XACML category URN.
	Category string
	// ID is the AttributeId.
	ID string
}

// Description tells the engine where a provider fits, so that it knows
// which provider to ask for a missing attribute and which request value to
// pass as the key.
type Description struct {
	// Category is the category of the attributes supplied; empty means
	// Key.Category (the usual case: a user file keyed by the subject id
	// supplies subject attributes).
	Category string
	// Key is the request attribute whose value selects the entity.
	Key AttributeRef
	// Attributes lists the attribute ids the provider can supply, when it
	// knows them; nil means "unknown, ask for anything of the category".
	Attributes []string
}

// SuppliedCategory returns the category of the attributes the provider
// supplies, applying the Key.Category default, so callers need not repeat
// that rule.
func (d Description) SuppliedCategory() string {
	if d.Category != "" {
		return d.Category
	}
	return d.Key.Category
}

// Supplies reports whether the provider may have the attribute, so that the
// engine asks only providers that can answer.
func (d Description) Supplies(category, attribute string) bool {
	if d.SuppliedCategory() != category {
		return false
	}
	if d.Attributes == nil {
		return true
	}
	for _, a := range d.Attributes {
		if a == attribute {
			return true
		}
	}
	return false
}

// Describer is implemented by providers that know their own Description
// (from their configuration or their data), so the engine need not be told
// twice.
type Describer interface {
	Describe() Description
}

// Lister is implemented by providers that can enumerate the entities they
// know. The AuthZEN search APIs use it to find candidate subjects and
// resources, each then evaluated through the engine.
type Lister interface {
	List(ctx context.Context, q ListQuery) (Page, error)
}

// ListQuery asks for one page of entities, in ascending key order.
type ListQuery struct {
	// Category is the full XACML category URN of the entities wanted.
	Category string
	// After resumes the listing after this key (the previous Page.Next);
	// empty starts at the beginning.
	After string
	// Limit bounds the page size; zero or less means no bound.
	Limit int
	// Attributes restricts the attributes returned with each entity; nil
	// means all of them.
	Attributes []string
}

// Page is one page of a listing.
type Page struct {
	// Entities are in ascending key order.
	Entities []Entity
	// Next is the ListQuery.After for the following page, empty when this
	// page is the last.
	Next string
}

// Entity is one listed entity: its key attribute value and its attributes.
type Entity struct {
	Key    string
	Values Values
}

// Unwrapper is implemented by wrappers (cache, breaker, timeout, ...) so
// that As can reach capabilities, such as Lister, of the provider inside.
type Unwrapper interface {
	Unwrap() Provider
}

// As finds the first provider in p's wrapper chain (p itself, then what
// Unwrap returns, and so on) that implements T. It is how the engine finds
// a Lister or Describer behind the cache and breaker, like errors.As finds
// an error type in a chain.
func As[T any](p Provider) (T, bool) {
	for p != nil {
		if t, ok := p.(T); ok {
			return t, true
		}
		u, ok := p.(Unwrapper)
		if !ok {
			break
		}
		p = u.Unwrap()
	}
	var zero T
	return zero, false
}
