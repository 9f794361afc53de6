package audit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pdp/decisionlog/natspub"
)

// CheckpointPublisher ships a checkpoint off the host (NATS in
// production), a role interface so tests can capture checkpoints.
type CheckpointPublisher interface {
	PublishCheckpoint(ctx context.Context, c Checkpoint) error
}

// Collector consumes decision records from JetStream with a durable
// consumer and stores them. A record is acknowledged only after the
// transaction holding it committed, and the store skips records it
// already holds, so a crash at any point loses nothing and duplicates
// nothing: unacknowledged records come back and are skipped or stored.
type Collector struct {
	js     jetstream.JetStream
	st     Store
	signer *Signer
	cfg    collectorConfig

	dirty    map[string]Link
	lastSign time.Time
}

// NewCollector returns a collector storing into st and signing checkpoints
// with signer (nil disables checkpoints, e.g. for a read replica).
func NewCollector(js jetstream.JetStream, st Store, signer *Signer, opts ...CollectorOption) *Collector {
	return &Collector{js: js, st: st, signer: signer, cfg: newCollectorConfig(opts), dirty: map[string]Link{}}
}

// Run consumes until ctx ends, then writes a final checkpoint. NATS may
// be unreachable when Run starts or at any time later: Run keeps retrying
// (logging why) rather than give up, since a collector that exits loses
// nothing but stops the audit trail. It returns nil once ctx ended.
func (c *Collector) Run(ctx context.Context) error {
	var cons jetstream.Consumer
	for {
		var err error
		if cons, err = c.consumer(ctx); err == nil {
			break
		}
		if ctx.Err() != nil {
			return nil
		}
		c.cfg.logger.Warn("audit collector: cannot set up the consumer, retrying", "err", err)
		sleep(ctx, time.Second)
	}
	defer c.finalCheckpoint(ctx)
	for ctx.Err() == nil {
		batch, err := cons.Fetch(c.cfg.batch, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			c.cfg.logger.Warn("audit collector: fetch failed", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) {
			c.cfg.logger.Debug("audit collector: fetch ended", "err", err)
		}
		if len(msgs) > 0 {
			c.ingest(ctx, msgs)
		}
		c.maybeCheckpoint(ctx, false)
	}
	return nil
}

// consumer creates (or finds) the stream and the durable consumer.
func (c *Collector) consumer(ctx context.Context) (jetstream.Consumer, error) {
	stream, err := natspub.EnsureStream(ctx, c.js, c.cfg.stream, c.cfg.prefix)
	if err != nil {
		return nil, fmt.Errorf("audit collector: %w", err)
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       c.cfg.durable,
		FilterSubject: c.cfg.prefix + ".>",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       c.cfg.ackWait,
		MaxAckPending: max(4*c.cfg.batch, 1000),
		DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("audit collector: consumer %s: %w", c.cfg.durable, err)
	}
	return cons, nil
}

// ingest stores one fetched batch and acknowledges it.
func (c *Collector) ingest(ctx context.Context, msgs []jetstream.Msg) {
	entries := make([]Entry, 0, len(msgs))
	good := make([]jetstream.Msg, 0, len(msgs))
	for _, m := range msgs {
		e, err := NewEntry(m.Data())
		if err != nil {
			// Redelivering garbage would block nothing but waste work
			// forever; it is logged and terminated instead.
			c.cfg.logger.Error("audit collector: dropping malformed record", "subject", m.Subject(), "err", err)
			_ = m.Term()
			continue
		}
		entries = append(entries, e)
		good = append(good, m)
	}
	if len(entries) == 0 {
		return
	}
	res, err := c.st.Append(ctx, entries)
	if err != nil {
		// Nothing was acknowledged: JetStream redelivers after AckWait.
		if ctx.Err() == nil {
			c.cfg.logger.Error("audit collector: store failed", "records", len(entries), "err", err)
			for _, m := range good {
				_ = m.NakWithDelay(time.Second)
			}
		}
		return
	}
	for _, m := range good {
		_ = m.Ack()
	}
	maps.Copy(c.dirty, res.Heads)
}

func (c *Collector) maybeCheckpoint(ctx context.Context, force bool) {
	if c.signer == nil || len(c.dirty) == 0 || (!force && time.Since(c.lastSign) < c.cfg.interval) {
		return
	}
	now := time.Now()
	cps := make([]Checkpoint, 0, len(c.dirty))
	for svc, head := range c.dirty {
		cps = append(cps, c.signer.Sign(svc, head, now))
	}
	if c.cfg.file != nil {
		if err := c.cfg.file.Append(cps...); err != nil {
			c.cfg.logger.Error("audit collector: checkpoint file", "err", err)
			return
		}
	}
	if c.cfg.publish != nil {
		for _, cp := range cps {
			if err := c.cfg.publish.PublishCheckpoint(ctx, cp); err != nil {
				c.cfg.logger.Warn("audit collector: publish checkpoint", "service", cp.Service, "err", err)
			}
		}
	}
	c.dirty, c.lastSign = map[string]Link{}, now
}

// finalCheckpoint signs the heads reached before stopping, with a short
// deadline of its own since ctx has ended.
func (c *Collector) finalCheckpoint(ctx context.Context) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	c.maybeCheckpoint(fctx, true)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
