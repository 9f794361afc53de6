// Package pip defines Verdict's policy information points: the contract a
// service implements so that the engine can ask it, lazily and only when a
// policy needs it, for attributes the request did not carry.
//
// # The contract
//
// A [Provider] supplies attributes of one XACML category, for one entity at
// a time. The engine names the entity by the value of a key attribute (for
// example the access-subject's "id"), and asks for the attribute ids it
// needs:
//
//	vals, err := p.Fetch(ctx, pip.Query{Category: pip.CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}})
//
// The result maps each attribute id to a bag of plain Go values:
//
//	string       xs:string
//	bool         xs:boolean
//	int64        xs:integer
//	float64      xs:double
//	json.Number  xs:double whose lexical form is kept ("27.50" prints back as given)
//
// [Normalize] and [NormalizeValues] turn looser values that a hand-written
// provider may return (int, []string, float32, ...) into exactly these types;
// the [Memo] does it on every fetch, so the engine only ever sees them.
// [FromJSON] applies the platform-wide JSON typing (string → xs:string,
// boolean → xs:boolean, integer → xs:integer, other number → xs:double with
// its lexical form, array → bag of its elements).
//
// # Failure semantics
//
// "No such entity" and "no such attribute" are answers, not failures: a
// provider returns an empty [Values] (or one without the attribute) and a
// nil error, and the attribute is an empty bag. Any non-nil error is a fetch
// failure: the engine must make every expression that needs the attribute
// Indeterminate (processing error), whatever MustBePresent says, because a
// failure is never an empty bag. There is deliberately no ErrNotFound.
// Failures can be told apart with errors.Is on the sentinels in this
// package ([ErrTimeout], [ErrCircuitOpen], [ErrInvalidValue], ...), but the
// engine needs only err != nil.
//
// # Wrappers
//
// [Wrap] composes the production stack around a provider, outermost first:
// TTL cache ([NewCache]), metrics, circuit breaker ([NewBreaker]), per-call
// timeout ([NewTimeout]). Each layer is also usable on its own and is
// configured with the same [Option] values. Per decision, the engine creates
// a [Memo] so that the same fetch happens once and the values fetched can be
// written to the decision log; [Set] routes "category C, attribute A" to the
// providers that can answer it.
//
// This package imports nothing else of Verdict, so that services can
// implement providers without pulling in the engine.
package pip
