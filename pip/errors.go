package pip

import "errors"

// Sentinel errors, matched with errors.Is. Every one of them is a fetch
// failure (the engine makes what needed the attribute Indeterminate); an
// unknown entity or attribute is never an error, so there is no
// ErrNotFound.
var (
	// ErrTimeout means the provider did not answer within its per-call
	// timeout. Errors that wrap it also match context.DeadlineExceeded.
	ErrTimeout = errors.New("pip fetch timed out")
	// ErrCircuitOpen means the circuit breaker is open after repeated
	// failures and the fetch was refused without calling the provider.
	ErrCircuitOpen = errors.New("pip circuit open")
	// ErrInvalidValue means a provider returned a value outside the
	// value model (see Normalize), which the engine cannot type.
	ErrInvalidValue = errors.New("pip value not representable")
	// ErrWrongCategory means a provider was asked for a category it does
	// not serve: a wiring mistake, reported rather than answered with an
	// empty bag so that it cannot silently change decisions.
	ErrWrongCategory = errors.New("pip category not served by this provider")
	// ErrUnknownCategory means a configured category name is neither a
	// known short name nor a URN.
	ErrUnknownCategory = errors.New("unknown attribute category")
	// ErrProviderPanic means a provider panicked during a fetch; the
	// panic is turned into a failure for the waiters of that fetch.
	ErrProviderPanic = errors.New("pip provider panicked")
	// ErrInvalidSource means a Set was given a source without a name, a
	// provider or a description.
	ErrInvalidSource = errors.New("invalid pip source")
)
