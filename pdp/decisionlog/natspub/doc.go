// Package natspub is the NATS JetStream transport of the decision log: a
// decisionlog.Publisher that publishes batches with the decision id as
// Nats-Msg-Id (so the stream drops the duplicates a replayed spool
// produces), and the stream both PDPs and the audit collector use. It is
// apart from pdp/decisionlog so that the record type and the Logger (which
// the SDK's embedded PDP uses) do not link the NATS client.
package natspub
