package sdk

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
)

// DecisionLogger receives a Record of every decision, for auditors (the
// decision-log stream, a file, a test). Log is called from one goroutine,
// never on the decision's path; it should return promptly, since records
// queue behind it and are dropped once the queue is full.
type DecisionLogger interface {
	Log(ctx context.Context, r Record)
}

// Record is everything needed to explain one decision afterwards: what was
// asked, what the PIPs added, what was answered, by which policy revision.
// It is the decision log's record type itself (an alias), so that a
// *decisionlog.Logger, which ships records to the audit collector, is a
// DecisionLogger as it is, and SDK and remote decisions are recorded the
// same way (EntryPoint "sdk" tells them apart).
type Record = decisionlog.Record

// decisionLog queues records for a DecisionLogger without ever blocking
// the decision that produced them.
type decisionLog struct {
	sink    DecisionLogger
	queue   chan queued
	done    chan struct{}
	stopped sync.WaitGroup
	logger  *slog.Logger
	dropped func()
	// lastWarn is the Unix nanosecond time of the last "dropping" warning,
	// so that a stuck sink does not also flood the service's log.
	lastWarn atomic.Int64
}

type queued struct {
	ctx context.Context
	rec Record
}

func newDecisionLog(sink DecisionLogger, buffer int, logger *slog.Logger, dropped func()) *decisionLog {
	l := &decisionLog{
		sink:    sink,
		queue:   make(chan queued, buffer),
		done:    make(chan struct{}),
		logger:  logger,
		dropped: dropped,
	}
	l.stopped.Add(1)
	go l.run()
	return l
}

func (l *decisionLog) run() {
	defer l.stopped.Done()
	for {
		select {
		case q := <-l.queue:
			l.sink.Log(q.ctx, q.rec)
		case <-l.done:
			for {
				select {
				case q := <-l.queue:
					l.sink.Log(q.ctx, q.rec)
				default:
					return
				}
			}
		}
	}
}

// enqueue queues r, or drops it when the queue is full. The context keeps
// the request's values (trace ids) but not its cancellation: the record
// outlives the request.
func (l *decisionLog) enqueue(ctx context.Context, r Record) {
	select {
	case l.queue <- queued{ctx: context.WithoutCancel(ctx), rec: r}:
	default:
		l.dropped()
		now := time.Now().UnixNano()
		if last := l.lastWarn.Load(); now-last > int64(time.Second) && l.lastWarn.CompareAndSwap(last, now) {
			l.logger.Warn("sdk: decision log queue full, dropping records", "buffer", cap(l.queue))
		}
	}
}

// close stops the worker after it has handed over every queued record.
// Records of decisions racing with close may be dropped.
func (l *decisionLog) close() {
	close(l.done)
	l.stopped.Wait()
}

// newRecord builds the record of one decision, copying the request so that
// the caller may reuse it once Decide returns. Latency is the time Decide
// took as the caller saw it; Error says why a decision failed closed.
func newRecord(service string, req *pdp.Request, d *pdp.Decision, err error, start time.Time, latency time.Duration) Record {
	r := decisionlog.FromDecision(service, start, req, d)
	r.EntryPoint = "sdk"
	r.Latency = latency
	if err != nil {
		r.Error = err.Error()
	}
	return r
}
