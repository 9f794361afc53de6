package decisionlog

import "context"

// Message is one encoded record on its way to the transport.
type Message struct {
	// Subject is verdict.decisions.<service> (or the configured prefix).
	Subject string
	// ID is the decision id, used for deduplication.
	ID string
	// Data is the record's JSON.
	Data []byte
}

// Publisher sends a batch of messages and returns once every message of
// it is durably accepted, or fails; a failed batch is spooled and sent
// again in full later, so a Publisher must deduplicate on Message.ID (as
// JetStream does). It is a role interface so tests and other transports
// can stand in for JetStream.
type Publisher interface {
	PublishBatch(ctx context.Context, msgs []Message) error
}

// DefaultSubjectPrefix is the subject prefix of decision records; the
// service name is the last token.
const DefaultSubjectPrefix = "verdict.decisions"

// DefaultStream is the JetStream stream holding decision records.
const DefaultStream = "VERDICT_DECISIONS"
