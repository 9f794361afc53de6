// Package decisionlog records every decision a PDP makes and ships the
// records, asynchronously and in batches, to NATS JetStream on
// verdict.decisions.<service>, where the audit collector stores them.
// Record is the one record type of embedded (SDK) and remote decisions;
// the JetStream transport is pdp/decisionlog/natspub, kept apart so that
// the SDK, which uses Record and Logger, does not link the NATS client.
//
// Auditors must be able to explain every decision, so nothing may be lost:
// a Logger never blocks the decision that produced a record, spills to an
// append-only disk spool when its queue is full or NATS is unreachable,
// replays the spool once NATS is back, and drops records only past an
// operator-configured spool cap (and counts them). Sensitive attributes are
// masked (dropped or replaced by keyed hashes) before a record leaves the
// process, and the record lists what was masked.
package decisionlog
