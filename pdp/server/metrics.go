package server

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

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

	// byEffect caches the decisions_total child of each common decision:
	// looking a child up by label hashes the label and takes a lock, on
	// every decision.
	byEffect [4]lazyCounter
}

// lazyCounter is a counter child resolved on first use, so that a series
// appears in /metrics only once something was counted, as with
// WithLabelValues.
type lazyCounter struct {
	once sync.Once
	c    prometheus.Counter
}

func (l *lazyCounter) inc(vec *prometheus.CounterVec, labels ...string) {
	l.once.Do(func() { l.c = vec.WithLabelValues(labels...) })
	l.c.Inc()
}

// apiMetrics are one API's request counter and latency histogram, with
// the children of the usual outcome resolved once.
type apiMetrics struct {
	m        *metrics
	api      string
	ok       lazyCounter
	durOnce  sync.Once
	duration prometheus.Observer
}

func (m *metrics) forAPI(api string) *apiMetrics { return &apiMetrics{m: m, api: api} }

// observe counts one request that ended with HTTP status code.
func (a *apiMetrics) observe(code int, d time.Duration) {
	if code == 200 {
		a.ok.inc(a.m.requests, a.api, "200")
	} else {
		a.m.requests.WithLabelValues(a.api, strconv.Itoa(code)).Inc()
	}
	a.durOnce.Do(func() { a.duration = a.m.duration.WithLabelValues(a.api) })
	a.duration.Observe(d.Seconds())
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
	switch e {
	case pdp.EffectPermit:
		m.byEffect[0].inc(m.decisions, "permit")
	case pdp.EffectDeny:
		m.byEffect[1].inc(m.decisions, "deny")
	case pdp.EffectNotApplicable:
		m.byEffect[2].inc(m.decisions, "notapplicable")
	case pdp.EffectIndeterminate:
		m.byEffect[3].inc(m.decisions, "indeterminate")
	default:
		m.decisions.WithLabelValues(strings.ToLower(string(e))).Inc()
	}
}
