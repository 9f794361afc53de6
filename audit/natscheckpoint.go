package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// CheckpointSubjectPrefix is where checkpoints are published, one subject
// per service, so that independent verifiers can keep their own copies.
const CheckpointSubjectPrefix = "verdict.audit.checkpoint"

// NATSCheckpoints publishes checkpoints on
// verdict.audit.checkpoint.<service>.
type NATSCheckpoints struct {
	nc     *nats.Conn
	prefix string
}

// NewNATSCheckpoints publishes on nc under prefix (CheckpointSubjectPrefix
// unless a test isolates itself).
func NewNATSCheckpoints(nc *nats.Conn, prefix string) *NATSCheckpoints {
	return &NATSCheckpoints{nc: nc, prefix: prefix}
}

// flushTimeout bounds the wait for the server to have a checkpoint when
// the caller's context has no deadline (nats.Conn.FlushWithContext needs
// one).
const flushTimeout = 5 * time.Second

// PublishCheckpoint implements CheckpointPublisher: it returns once the
// server has the checkpoint.
func (p *NATSCheckpoints) PublishCheckpoint(ctx context.Context, c Checkpoint) error {
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("audit: checkpoint: %w", err)
	}
	if err := p.nc.Publish(p.prefix+"."+c.Service, b); err != nil {
		return fmt.Errorf("audit: publish checkpoint: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, flushTimeout)
		defer cancel()
	}
	if err := p.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("audit: publish checkpoint: %w", err)
	}
	return nil
}
