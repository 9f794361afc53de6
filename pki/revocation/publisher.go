package revocation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
)

// Publisher announces revocations on NATS. It implements the CA's
// RevocationNotifier (ca.WithRevocationNotifier), so every revocation the
// CA records reaches every Subscriber within moments instead of at the
// next CRL.
type Publisher struct {
	nc  *nats.Conn
	cfg natsConfig
}

// NewPublisher publishes on nc, which the caller owns and closes.
func NewPublisher(nc *nats.Conn, opts ...NATSOption) *Publisher {
	return &Publisher{nc: nc, cfg: newNATSConfig(opts)}
}

// Publish sends e and waits until the server has it (or ctx ends), so a
// caller that must know the event left can retry.
func (p *Publisher) Publish(ctx context.Context, e Entry) error {
	if e.Serial == nil {
		return fmt.Errorf("revocation: publish: no serial")
	}
	data, err := json.Marshal(EventOf(e))
	if err != nil {
		return fmt.Errorf("revocation: publish: %w", err)
	}
	if err := p.nc.Publish(p.cfg.subject, data); err != nil {
		return fmt.Errorf("revocation: publish %s: %w", p.cfg.subject, err)
	}
	if err := flush(ctx, p.nc, p.cfg.flushTimeout); err != nil {
		return fmt.Errorf("revocation: publish %s: flush: %w", p.cfg.subject, err)
	}
	return nil
}

// NotifyRevocation implements ca.RevocationNotifier: it publishes, waiting
// at most the flush timeout, and logs a failure. The revocation itself is
// already recorded, and the CRL and OCSP still carry it to anyone who
// misses the event.
func (p *Publisher) NotifyRevocation(ctx context.Context, e Entry) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.flushTimeout)
	defer cancel()
	if err := p.Publish(ctx, e); err != nil {
		p.cfg.logger.ErrorContext(ctx, "revocation: event not published; receivers learn it from the CRL",
			"serial", e.Serial.String(), "error", err)
	}
}

// flush waits for the server to process everything sent so far. NATS needs
// a deadline, so a context without one gets the flush timeout.
func flush(ctx context.Context, nc *nats.Conn, timeout time.Duration) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return nc.FlushWithContext(ctx)
}
