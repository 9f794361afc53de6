package publish

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the publisher's collectors, registered when a registerer is
// given.
type metrics struct {
	publishes *prometheus.CounterVec
	duration  prometheus.Histogram
	size      prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		publishes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "verdict", Subsystem: "pap_publish", Name: "publishes_total",
			Help: "Bundle publishes by result: published, skipped (subject already newer) or failed.",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "verdict", Subsystem: "pap_publish", Name: "publish_seconds",
			Help:    "Time to build, sign and store a bundle in JetStream.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		size: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "verdict", Subsystem: "pap_publish", Name: "bundle_bytes",
			Help:    "Size of published bundle archives.",
			Buckets: prometheus.ExponentialBuckets(1024, 4, 10),
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.publishes, m.duration, m.size} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("publish: registering metrics: %w", err)
			}
		}
	}
	return m, nil
}
