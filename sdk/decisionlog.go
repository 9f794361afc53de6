package sdk

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pip"
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
type Record struct {
	// DecisionID is the decision's ID, the key auditors and PEP logs share.
	DecisionID string `json:"decision_id"`
	// Time is when the decision was asked for.
	Time time.Time `json:"time"`
	// Service is the service the PDP protects (WithService, else the
	// active policy's).
	Service string `json:"service"`
	// Revision and Digest identify the policy that decided (zero when none
	// was active).
	Revision uint64 `json:"revision"`
	Digest   string `json:"digest,omitempty"`
	// Request holds the request's attributes (a copy).
	Request []pdp.Attribute `json:"request"`
	// PIPValues are the attributes fetched from PIPs for this decision.
	PIPValues []pip.Record `json:"pip_values,omitempty"`
	// Effect, Extended (the Indeterminate qualifier) and Status are the
	// decision and why.
	Effect   pdp.Effect `json:"effect"`
	Extended string     `json:"extended,omitempty"`
	Status   pdp.Status `json:"status"`
	// Obligations and Advice are those returned with the decision.
	Obligations []pdp.Obligation `json:"obligations,omitempty"`
	Advice      []pdp.Obligation `json:"advice,omitempty"`
	// PolicyIDs lists the applicable policies, when the request asked.
	PolicyIDs []pdp.PolicyID `json:"policy_ids,omitempty"`
	// Latency is the time Decide took, as the caller saw it.
	Latency time.Duration `json:"latency_ns"`
	// Error is set when the decision failed closed, and says why.
	Error string `json:"error,omitempty"`
}

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
// the caller may reuse it once Decide returns.
func newRecord(service string, req *pdp.Request, d *pdp.Decision, err error, start time.Time, latency time.Duration) Record {
	r := Record{
		DecisionID:  d.ID,
		Time:        start,
		Service:     service,
		Revision:    d.Revision,
		Digest:      d.Digest,
		PIPValues:   d.PIPValues,
		Effect:      d.Effect,
		Extended:    d.Extended,
		Status:      d.Status,
		Obligations: d.Obligations,
		Advice:      d.Advice,
		PolicyIDs:   d.PolicyIDs,
		Latency:     latency,
	}
	if err != nil {
		r.Error = err.Error()
	}
	if req != nil {
		r.Request = cloneAttributes(req.Attributes)
	}
	return r
}

// cloneAttributes deep-copies attributes with two allocations.
func cloneAttributes(attrs []pdp.Attribute) []pdp.Attribute {
	n := 0
	for _, a := range attrs {
		n += len(a.Values)
	}
	out := make([]pdp.Attribute, len(attrs))
	vals := make([]pdp.Value, 0, n)
	for i, a := range attrs {
		start := len(vals)
		vals = append(vals, a.Values...)
		out[i] = a
		out[i].Values = vals[start:len(vals):len(vals)]
	}
	return out
}
