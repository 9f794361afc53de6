package decisionlog

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Logger ships decision records to a Publisher asynchronously. Log never
// blocks on the network: records queue in memory, are masked and published
// in batches by one goroutine, and go to the disk spool when the queue is
// full or the publisher fails; the spool is replayed once publishing works
// again. Records are dropped only when the spool is full or absent, and
// every outcome is counted. A Logger is safe for concurrent use.
type Logger struct {
	cfg   config
	pub   Publisher
	queue chan Record
	spool *spool
	met   *metrics

	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	stopped chan struct{}
	closed  atomic.Bool
	once    sync.Once
	err     error

	// healthy is false after a failed publish, until the spool has been
	// replayed; meanwhile new batches go straight to the spool, which
	// keeps them behind older records and keeps the worker from waiting
	// out a publish timeout per batch.
	healthy  bool
	lastWarn atomic.Int64
}

// New starts a Logger publishing through pub. ctx carries values (not a
// deadline) for the Logger's lifetime, which ends with Close. Records left
// in the spool by a previous process are replayed.
func New(ctx context.Context, pub Publisher, opts ...Option) (*Logger, error) {
	cfg := newConfig(opts)
	met, err := newMetrics(cfg.registerer)
	if err != nil {
		return nil, err
	}
	l := &Logger{
		cfg:     cfg,
		pub:     pub,
		queue:   make(chan Record, cfg.buffer),
		met:     met,
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
		healthy: true,
	}
	if cfg.spoolDir != "" {
		if l.spool, err = openSpool(cfg.spoolDir, cfg.spoolMax, cfg.segBytes); err != nil {
			return nil, err
		}
		l.healthy = !l.spool.pending()
	}
	l.ctx, l.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go l.run()
	return l, nil
}

// Log queues r for publication without blocking. When the queue is full,
// r is masked and written to the spool; when that fails too, it is
// dropped and counted. A record without a decision id gets a random one,
// because the id is what makes delivery idempotent.
func (l *Logger) Log(_ context.Context, r Record) {
	if r.DecisionID == "" {
		r.DecisionID = randomID()
	}
	if l.closed.Load() {
		l.drop(1, ErrClosed)
		return
	}
	select {
	case l.queue <- r:
		l.met.queued.Inc()
	default:
		l.spill(r)
	}
}

// spill writes one record to the spool from the caller's goroutine.
func (l *Logger) spill(r Record) {
	m, err := l.encode(r)
	if err != nil {
		l.drop(1, err)
		return
	}
	l.spoolMessages([]Message{m})
}

func (l *Logger) encode(r Record) (Message, error) {
	if r.Instance == "" {
		r.Instance = l.cfg.instance
	}
	m := l.cfg.maskers[r.Service]
	if m == nil {
		m = l.cfg.defaultMasker
	}
	m.Apply(&r)
	data, err := json.Marshal(r)
	if err != nil {
		return Message{}, fmt.Errorf("decisionlog: encode %s: %w", r.DecisionID, err)
	}
	return Message{Subject: l.cfg.prefix + "." + r.Service, ID: r.DecisionID, Data: data}, nil
}

func (l *Logger) spoolMessages(msgs []Message) {
	if l.spool == nil {
		l.drop(len(msgs), errors.New("no spool configured"))
		return
	}
	for i, m := range msgs {
		if err := l.spool.append(encodeFrame(m)); err != nil {
			l.drop(len(msgs)-i, err)
			return
		}
		l.met.spooled.Inc()
	}
}

func (l *Logger) drop(n int, why error) {
	l.met.dropped.Add(float64(n))
	now := time.Now().UnixNano()
	if last := l.lastWarn.Load(); now-last > int64(time.Second) && l.lastWarn.CompareAndSwap(last, now) {
		l.cfg.logger.Warn("decisionlog: dropping records", "count", n, "reason", why)
	}
}

func (l *Logger) run() {
	defer close(l.stopped)
	tick := time.NewTicker(l.cfg.flush)
	defer tick.Stop()
	batch := make([]Message, 0, l.cfg.batchSize)
	add := func(r Record) {
		m, err := l.encode(r)
		if err != nil {
			l.drop(1, err)
			return
		}
		batch = append(batch, m)
		if len(batch) >= l.cfg.batchSize {
			l.flush(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case r := <-l.queue:
			add(r)
		case <-tick.C:
			if len(batch) > 0 {
				l.flush(batch)
				batch = batch[:0]
			}
			if !l.healthy {
				l.replay()
			}
		case <-l.done:
			for {
				select {
				case r := <-l.queue:
					add(r)
					continue
				default:
				}
				break
			}
			if len(batch) > 0 {
				l.flush(batch)
			}
			if !l.healthy {
				l.replay()
			}
			return
		}
	}
}

// flush publishes one batch, or spools it when NATS is unreachable.
func (l *Logger) flush(batch []Message) {
	if !l.healthy {
		l.spoolMessages(batch)
		return
	}
	ctx, cancel := context.WithTimeout(l.ctx, l.cfg.timeout)
	err := l.pub.PublishBatch(ctx, batch)
	cancel()
	if err != nil {
		l.cfg.logger.Warn("decisionlog: publish failed, spooling", "records", len(batch), "err", err)
		l.healthy = false
		l.spoolMessages(batch)
		return
	}
	l.met.sent.Add(float64(len(batch)))
}

// replay sends the spool, oldest first; healthy again once it is empty.
func (l *Logger) replay() {
	if l.spool == nil {
		l.healthy = true
		return
	}
	n, err := l.spool.drain(func(frames [][]byte) error {
		msgs := make([]Message, 0, l.cfg.batchSize)
		send := func() error {
			ctx, cancel := context.WithTimeout(l.ctx, l.cfg.timeout)
			defer cancel()
			return l.pub.PublishBatch(ctx, msgs)
		}
		for _, f := range frames {
			m, err := decodeFrame(f)
			if err != nil {
				l.drop(1, err)
				continue
			}
			msgs = append(msgs, m)
			if len(msgs) == cap(msgs) {
				if err := send(); err != nil {
					return err
				}
				msgs = msgs[:0]
			}
		}
		if len(msgs) > 0 {
			return send()
		}
		return nil
	})
	l.met.sent.Add(float64(n))
	if err != nil {
		if !errors.Is(err, ErrClosed) {
			l.cfg.logger.Debug("decisionlog: spool replay failed", "err", err)
		}
		return
	}
	if n > 0 {
		l.cfg.logger.Info("decisionlog: spool replayed", "records", n)
	}
	l.healthy = !l.spool.pending()
}

// Close stops accepting records into the queue, publishes what is queued
// (spooling what cannot be published, for the next process to replay),
// and waits for that until ctx ends. Records logged after Close are
// dropped and counted. It is safe to call more than once.
func (l *Logger) Close(ctx context.Context) error {
	l.once.Do(func() {
		l.closed.Store(true)
		close(l.done)
		select {
		case <-l.stopped:
		case <-ctx.Done():
			l.cancel()
			<-l.stopped
			l.err = fmt.Errorf("decisionlog: close: %w", ctx.Err())
		}
		l.cancel()
		// Records that raced with Close into the queue after the worker
		// left go to the spool rather than vanish.
		for len(l.queue) > 0 {
			l.spill(<-l.queue)
		}
		if l.spool != nil {
			if err := l.spool.close(); err != nil && l.err == nil {
				l.err = err
			}
		}
	})
	return l.err
}

// encodeFrame packs a message as subject NUL id NUL data.
func encodeFrame(m Message) []byte {
	b := make([]byte, 0, len(m.Subject)+len(m.ID)+len(m.Data)+2)
	b = append(b, m.Subject...)
	b = append(b, 0)
	b = append(b, m.ID...)
	b = append(b, 0)
	return append(b, m.Data...)
}

func decodeFrame(b []byte) (Message, error) {
	subj, rest, ok1 := bytes.Cut(b, []byte{0})
	id, data, ok2 := bytes.Cut(rest, []byte{0})
	if !ok1 || !ok2 {
		return Message{}, errors.New("decisionlog: malformed spool frame")
	}
	return Message{Subject: string(subj), ID: string(id), Data: data}, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
