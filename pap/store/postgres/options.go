package postgres

// Option configures Open. Options are values so that callers can assemble
// them from configuration; the unexported method keeps the set closed.
type Option interface {
	apply(*config)
}

type config struct {
	schema string
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// DefaultSchema is the PostgreSQL schema the store uses when WithSchema is
// not given: its own namespace, so that the PAP can share a database with
// other applications (or with the audit store) without name clashes.
const DefaultSchema = "verdict_pap"

// WithSchema sets the PostgreSQL schema that holds the store's tables; Open
// creates it when missing. Names must match [a-z_][a-z0-9_]{0,62}. Tests
// use it to give each test its own schema on a shared server, and
// operators to run several PAPs (e.g. staging and production) in one
// database.
func WithSchema(name string) Option {
	return optionFunc(func(c *config) { c.schema = name })
}
