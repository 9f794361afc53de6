package bundlesource

import (
	"context"
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// consumerInactivity is how long the server keeps a consumer whose PDP
// vanished; an ordered consumer recreates its consumer after reconnecting
// anyway, so a short value only saves server memory.
const consumerInactivity = time.Minute

// follow keeps an ordered consumer on subject, starting from the subject's
// last message. The ordered consumer itself resumes after the last message
// it delivered across reconnects and server restarts; follow recreates it
// from scratch when it cannot be created (stream missing, NATS down) or
// stops for good. kind, when set, overrides the message's kind header.
func (s *Source) follow(subject, kind string) {
	defer s.wg.Done()
	wait := time.Duration(0)
	for s.ctx.Err() == nil {
		if s.nc.IsClosed() {
			s.log.Warn("NATS connection closed; no longer following", "subject", subject)
			return
		}
		cons, cc, err := s.subscribe(subject, kind)
		if err != nil {
			wait = min(max(2*wait, 50*time.Millisecond), s.cfg.retryMax)
			s.log.Debug("subscribing failed; retrying", "subject", subject, "in", wait, "err", err)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(wait):
			}
			continue
		}
		wait = 0
		select {
		case <-s.ctx.Done():
			cc.Stop()
			s.deleteConsumer(cons)
			return
		case <-cc.Closed():
			s.log.Debug("consumer stopped; resubscribing", "subject", subject)
		}
	}
}

// subscribe creates the ordered consumer and starts consuming.
func (s *Source) subscribe(subject, kind string) (jetstream.Consumer, jetstream.ConsumeContext, error) {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	cons, err := s.js.OrderedConsumer(ctx, s.cfg.stream, jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{subject},
		DeliverPolicy:     jetstream.DeliverLastPerSubjectPolicy,
		InactiveThreshold: consumerInactivity,
	})
	if err != nil {
		return nil, nil, err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		k := kind
		if k == "" {
			k = m.Headers().Get(HeaderKind)
		}
		s.enqueue(event{kind: k, data: m.Data()})
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		s.log.Debug("consumer", "subject", subject, "err", err)
	}))
	if err != nil {
		s.deleteConsumer(cons)
		return nil, nil, err
	}
	return cons, cc, nil
}

// deleteConsumer removes the server-side consumer of a stopped Source
// instead of leaving it to expire.
func (s *Source) deleteConsumer(cons jetstream.Consumer) {
	info := cons.CachedInfo()
	if info == nil || s.nc.IsClosed() || !s.nc.IsConnected() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), time.Second)
	defer cancel()
	_ = s.js.DeleteConsumer(ctx, s.cfg.stream, info.Name)
}

// heartbeatLoop reports the state every interval; state changes are
// reported at once by the applier.
func (s *Source) heartbeatLoop() {
	defer s.wg.Done()
	s.publishHeartbeat(false)
	t := time.NewTicker(s.cfg.interval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.publishHeartbeat(false)
		}
	}
}

// Heartbeat returns the heartbeat the Source would send now, for health
// endpoints of the process embedding it.
func (s *Source) Heartbeat() Heartbeat {
	st := s.snapshot()
	hb := Heartbeat{
		Service:    s.cfg.service,
		Instance:   s.cfg.instance,
		Revision:   st.revision,
		Digest:     st.digest,
		Time:       time.Now().UTC(),
		IntervalMS: s.cfg.interval.Milliseconds(),

		KeySetVersion: s.cfg.trust.Version(),
	}
	if st.lastError != nil {
		hb.LastError = st.lastError.Error()
	}
	return hb
}

// publishHeartbeat sends the current state on the status subject. Core
// NATS publishing never blocks; while disconnected the client buffers.
func (s *Source) publishHeartbeat(stopping bool) {
	// Snapshot and send under one lock, so that heartbeats leave in the
	// order of the states they describe.
	s.hbMu.Lock()
	defer s.hbMu.Unlock()
	hb := s.Heartbeat()
	hb.Stopping = stopping
	data, err := json.Marshal(hb)
	if err != nil {
		return
	}
	if err := s.nc.Publish(s.cfg.subjects.Status(s.cfg.service, s.cfg.instance), data); err != nil {
		s.log.Debug("heartbeat not sent", "err", err)
	}
}
