package natspub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pdp/decisionlog"
)

// Publisher publishes batches asynchronously to JetStream and
// waits for all acknowledgements, setting Nats-Msg-Id to the decision id
// so that the stream drops the duplicates a replayed spool produces.
type Publisher struct {
	js jetstream.JetStream
}

// New returns a decisionlog.Publisher over js.
func New(js jetstream.JetStream) *Publisher {
	return &Publisher{js: js}
}

// PublishBatch implements decisionlog.Publisher.
func (p *Publisher) PublishBatch(ctx context.Context, msgs []decisionlog.Message) error {
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	for _, m := range msgs {
		nm := &nats.Msg{Subject: m.Subject, Data: m.Data, Header: nats.Header{}}
		nm.Header.Set(jetstream.MsgIDHeader, m.ID)
		f, err := p.js.PublishMsgAsync(nm, jetstream.WithStallWait(stallWait(ctx)))
		if err != nil {
			return fmt.Errorf("natspub: publish: %w", err)
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
			return fmt.Errorf("natspub: publish: %w", ctx.Err())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("natspub: publish: %w", err)
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
		return nil, fmt.Errorf("natspub: stream %s: %w", name, err)
	}
	return s, nil
}
