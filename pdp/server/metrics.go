package server

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pdp"
)

// metrics are the server's Prometheus collectors: per API, how many
// requests with which outcome and how long they took, the decisions made,
// and the requests in flight (the overload signal).
type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	inFlight  prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "verdict", Subsystem: "pdp_server", Name: "requests_total",
			Help: "Requests served, by API and outcome (HTTP status or gRPC code).",
		}, []string{"api", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "verdict", Subsystem: "pdp_server", Name: "request_duration_seconds",
			Help:    "Time to serve a request, by API.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"api"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "verdict", Subsystem: "pdp_server", Name: "decisions_total",
			Help: "Decisions made, by XACML decision.",
		}, []string{"decision"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "verdict", Subsystem: "pdp_server", Name: "in_flight_requests",
			Help: "Requests being decided now.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.decisions, m.inFlight} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("server: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) decision(e pdp.Effect) {
	m.decisions.WithLabelValues(strings.ToLower(string(e))).Inc()
}
