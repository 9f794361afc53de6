package decisionlog

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count what happened to records, so operators see spooling
// before it turns into dropping.
type metrics struct {
	queued, sent, spooled, dropped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "verdict", Subsystem: "decisionlog", Name: name, Help: help})
	}
	m := &metrics{
		queued:  c("queued_total", "Decision records accepted into the in-memory queue."),
		sent:    c("sent_total", "Decision records acknowledged by JetStream."),
		spooled: c("spooled_total", "Decision records written to the disk spool (queue full or NATS unreachable)."),
		dropped: c("dropped_total", "Decision records lost because the spool was full (past the operator's cap) or absent."),
	}
	if reg != nil {
		for _, col := range []prometheus.Collector{m.queued, m.sent, m.spooled, m.dropped} {
			if err := reg.Register(col); err != nil {
				return nil, fmt.Errorf("decisionlog: register metrics: %w", err)
			}
		}
	}
	return m, nil
}
