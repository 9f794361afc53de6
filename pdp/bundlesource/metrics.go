package bundlesource

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are a Source's Prometheus collectors; they exist (unregistered)
// even without WithRegisterer so that recording needs no nil checks.
type metrics struct {
	revision   prometheus.Gauge
	bundles    *prometheus.CounterVec
	activation prometheus.Histogram
}

// Results of a received bundle, the "result" label of bundles_total.
const (
	resultApplied   = "applied"
	resultRefused   = "refused"
	resultDuplicate = "duplicate"
)

func newMetrics(reg prometheus.Registerer, service, instance string) (*metrics, error) {
	labels := prometheus.Labels{"service": service, "instance": instance}
	m := &metrics{
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "verdict", Subsystem: "bundlesource", Name: "active_revision",
			Help: "Revision of the bundle the engine decides with (0 before the first).", ConstLabels: labels,
		}),
		bundles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "verdict", Subsystem: "bundlesource", Name: "bundles_total",
			Help: "Bundles received, by result: applied, refused (tampered, untrusted, stale, uncompilable) or duplicate.", ConstLabels: labels,
		}, []string{"result"}),
		activation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "verdict", Subsystem: "bundlesource", Name: "activation_seconds",
			Help: "Time to verify, compile and swap in a bundle.", ConstLabels: labels,
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.revision, m.bundles, m.activation} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("bundlesource: metrics for service %s instance %s already registered: %w", service, instance, err)
			}
			return nil, fmt.Errorf("bundlesource: registering metrics: %w", err)
		}
	}
	return m, nil
}

// unregister removes the collectors, so that a closed Source's metrics do
// not linger and a new Source for the same instance can register.
func (m *metrics) unregister(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	reg.Unregister(m.revision)
	reg.Unregister(m.bundles)
	reg.Unregister(m.activation)
}
