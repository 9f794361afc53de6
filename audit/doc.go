// Package audit is the decision-log collector and its store: it consumes
// the decision records PDPs publish on verdict.decisions.<service>, stores
// each exactly once (keyed by decision id), chains them per service with
// SHA-256 so that any edit, deletion or truncation is detectable, signs
// checkpoints of each chain head with Ed25519 and keeps them outside the
// store, and answers auditors' queries (server.go) including replays of a
// recorded decision against any policy revision.
package audit
