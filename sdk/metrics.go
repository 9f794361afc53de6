package sdk

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pdp"
)

// metrics are the PDP's Prometheus collectors. A nil *metrics records
// nothing, so the decision path needs no configuration checks.
//
// Series:
//
//	verdict_sdk_decisions_total{effect}            decisions by XACML effect (fail-closed ones count as Deny)
//	verdict_sdk_fail_closed_total{reason}          decisions denied because no real decision could be made
//	verdict_sdk_decision_duration_seconds          Decide latency as the caller sees it
//	verdict_sdk_decision_log_dropped_total         records dropped because the decision-log queue was full
//	verdict_sdk_policy_revision                    revision of the active policy (0: none or local)
type metrics struct {
	reg        prometheus.Registerer
	collectors []prometheus.Collector
	byEffect   map[pdp.Effect]prometheus.Counter
	failed     *prometheus.CounterVec
	duration   prometheus.Histogram
	dropped    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, revision func() float64) (*metrics, error) {
	m := &metrics{reg: reg, byEffect: map[pdp.Effect]prometheus.Counter{}}
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "verdict", Subsystem: "sdk", Name: "decisions_total",
		Help: "Decisions made by the embedded PDP, by XACML effect; fail-closed decisions count as Deny.",
	}, []string{"effect"})
	m.failed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "verdict", Subsystem: "sdk", Name: "fail_closed_total",
		Help: "Decisions denied because no real decision could be made, by reason.",
	}, []string{"reason"})
	m.duration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "verdict", Subsystem: "sdk", Name: "decision_duration_seconds",
		Help:    "Latency of Decide as the caller sees it.",
		Buckets: []float64{5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, .1, .5},
	})
	m.dropped = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "verdict", Subsystem: "sdk", Name: "decision_log_dropped_total",
		Help: "Decision-log records dropped because the queue to the DecisionLogger was full.",
	})
	rev := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: "verdict", Subsystem: "sdk", Name: "policy_revision",
		Help: "Revision of the active policy (0 when none is active or the policy is local).",
	}, revision)
	for _, c := range []prometheus.Collector{decisions, m.failed, m.duration, m.dropped, rev} {
		if err := reg.Register(c); err != nil {
			m.unregister()
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				return nil, fmt.Errorf("%w: the metrics registry already serves a PDP (one registry per PDP): %w", ErrConfig, err)
			}
			return nil, fmt.Errorf("sdk: register metrics: %w", err)
		}
		m.collectors = append(m.collectors, c)
	}
	for _, e := range []pdp.Effect{pdp.EffectPermit, pdp.EffectDeny, pdp.EffectNotApplicable, pdp.EffectIndeterminate} {
		m.byEffect[e] = decisions.WithLabelValues(string(e))
	}
	return m, nil
}

func (m *metrics) observe(d *pdp.Decision, failReason string, took time.Duration) {
	if m == nil {
		return
	}
	if c, ok := m.byEffect[d.Effect]; ok {
		c.Inc()
	}
	if failReason != "" {
		m.failed.WithLabelValues(failReason).Inc()
	}
	m.duration.Observe(took.Seconds())
}

func (m *metrics) droppedRecord() {
	if m != nil {
		m.dropped.Inc()
	}
}

// unregister removes the collectors, so that the registry can serve a new
// PDP after Close.
func (m *metrics) unregister() {
	if m == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
	m.collectors = nil
}
