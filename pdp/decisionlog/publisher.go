package decisionlog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

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

// JetStreamPublisher publishes batches asynchronously to JetStream and
// waits for all acknowledgements, setting Nats-Msg-Id to the decision id
// so that the stream drops the duplicates a replayed spool produces.
type JetStreamPublisher struct {
	js jetstream.JetStream
}

// NewJetStreamPublisher returns a Publisher over js.
func NewJetStreamPublisher(js jetstream.JetStream) *JetStreamPublisher {
	return &JetStreamPublisher{js: js}
}

// PublishBatch implements Publisher.
func (p *JetStreamPublisher) PublishBatch(ctx context.Context, msgs []Message) error {
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, m := range msgs {
		nm := &nats.Msg{Subject: m.Subject, Data: m.Data, Header: nats.Header{}}
		nm.Header.Set(jetstream.MsgIDHeader, m.ID)
		f, err := p.js.PublishMsgAsync(nm, jetstream.WithStallWait(stallWait(ctx)))
		if err != nil {
			return fmt.Errorf("decisionlog: publish: %w", err)
		}
		futures = append(futures, f)
	}
	var errs []error
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			errs = append(errs, err)
		case <-ctx.Done():
			return fmt.Errorf("decisionlog: publish: %w", ctx.Err())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("decisionlog: publish: %w", err)
	}
	return nil
}

// stallWait bounds how long an async publish may wait for room among the
// pending acknowledgements: the batch's remaining time.
func stallWait(ctx context.Context) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d > 0 {
			return d
		}
		return time.Millisecond
	}
	return 5 * time.Second
}

// DefaultSubjectPrefix is the subject prefix of decision records; the
// service name is the last token.
const DefaultSubjectPrefix = "verdict.decisions"

// DefaultStream is the JetStream stream holding decision records.
const DefaultStream = "VERDICT_DECISIONS"

// EnsureStream creates or updates the stream that holds decision records
// under prefix.> so that PDPs and the collector agree on it; tests pass
// unique names to isolate themselves on a shared server.
func EnsureStream(ctx context.Context, js jetstream.JetStream, name, prefix string) (jetstream.Stream, error) {
	s, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       name,
		Subjects:   []string{prefix + ".>"},
		Storage:    jetstream.FileStorage,
		Duplicates: 10 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("decisionlog: stream %s: %w", name, err)
	}
	return s, nil
}
