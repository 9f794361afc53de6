package revocation

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
)

// Subscriber feeds revocation events from NATS into a Set. Every TLS
// configuration that checks that Set (tlsconfig.WithRevocationChecker)
// refuses the serial from the next handshake on, and every ConnTracker
// subscribed to it closes live connections that use it.
//
// Core NATS delivers only while connected: events published during a
// disconnection are missed, which is why relying parties also check the
// CRL (revocation.Any of the Set and a CRL checker).
type Subscriber struct {
	sub  *nats.Subscription
	set  *Set
	cfg  natsConfig
	once sync.Once
	err  error
}

// Subscribe subscribes on nc (which the caller owns) and returns once the
// server has registered the subscription, so that no revocation published
// after it returns is missed.
func Subscribe(ctx context.Context, nc *nats.Conn, set *Set, opts ...NATSOption) (*Subscriber, error) {
	if set == nil {
		return nil, fmt.Errorf("revocation: subscribe: nil set")
	}
	s := &Subscriber{set: set, cfg: newNATSConfig(opts)}
	sub, err := nc.Subscribe(s.cfg.subject, s.handle)
	if err != nil {
		return nil, fmt.Errorf("revocation: subscribe %s: %w", s.cfg.subject, err)
	}
	if err := flush(ctx, nc, s.cfg.flushTimeout); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("revocation: subscribe %s: %w", s.cfg.subject, err)
	}
	s.sub = sub
	return s, nil
}

func (s *Subscriber) handle(m *nats.Msg) {
	e, err := ParseEvent(m.Data)
	if err != nil {
		s.cfg.logger.Warn("revocation: dropping malformed event", "subject", m.Subject, "error", err)
		return
	}
	if s.set.Add(e) {
		s.cfg.logger.Info("revocation: serial revoked", "serial", e.Serial.String(), "reason", e.Reason)
	}
}

// Set returns the set the subscriber feeds.
func (s *Subscriber) Set() *Set { return s.set }

// Close unsubscribes; the Set keeps what it learnt. It is idempotent.
func (s *Subscriber) Close() error {
	s.once.Do(func() {
		if err := s.sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) && !errors.Is(err, nats.ErrBadSubscription) {
			s.err = fmt.Errorf("revocation: unsubscribe: %w", err)
		}
	})
	return s.err
}
