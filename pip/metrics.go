package pip

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the Prometheus collectors of the PIP layer. Create one per
// registry with NewMetrics and pass it to every wrapper with WithMetrics;
// each provider is told apart by its WithName label. A nil *Metrics
// records nothing.
type Metrics struct {
	fetches  *prometheus.CounterVec
	errs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	hits     *prometheus.CounterVec
	misses   *prometheus.CounterVec
	circuit  *prometheus.GaugeVec
}

// NewMetrics registers the PIP collectors with reg, which must not be nil:
// the global default registry is never used implicitly. Calling it again
// with the same registry returns collectors bound to the ones already
// registered, so several components may share a registry.
//
// Series (label "provider" is the WithName name):
//
//	verdict_pip_fetches_total             calls that reached the provider stack below the cache
//	verdict_pip_fetch_errors_total        failures, by reason: timeout, circuit_open, canceled, invalid_value, error
//	verdict_pip_fetch_duration_seconds    latency of those calls
//	verdict_pip_cache_hits_total          fetches answered entirely from the cache
//	verdict_pip_cache_misses_total        fetches that needed the provider
//	verdict_pip_circuit_state             0 closed, 1 half-open, 2 open
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("pip: NewMetrics needs a prometheus.Registerer")
	}
	label := []string{"provider"}
	m := &Metrics{
		fetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "verdict", Subsystem: "pip", Name: "fetches_total",
			Help: "PIP fetches that reached the provider (cache misses included, cache hits excluded).",
		}, label),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "verdict", Subsystem: "pip", Name: "fetch_errors_total",
			Help: "PIP fetch failures by reason; each makes the attributes it was for Indeterminate.",
		}, []string{"provider", "reason"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "verdict", Subsystem: "pip", Name: "fetch_duration_seconds",
			Help:    "Latency of PIP fetches that reached the provider.",
			Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, label),
		hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "verdict", Subsystem: "pip", Name: "cache_hits_total",
			Help: "PIP fetches answered entirely from the TTL cache.",
		}, label),
		misses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "verdict", Subsystem: "pip", Name: "cache_misses_total",
			Help: "PIP fetches the TTL cache could not answer entirely.",
		}, label),
		circuit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "verdict", Subsystem: "pip", Name: "circuit_state",
			Help: "PIP circuit breaker state: 0 closed, 1 half-open, 2 open.",
		}, label),
	}
	var err error
	if m.fetches, err = register(reg, m.fetches); err != nil {
		return nil, err
	}
	if m.errs, err = register(reg, m.errs); err != nil {
		return nil, err
	}
	if m.duration, err = register(reg, m.duration); err != nil {
		return nil, err
	}
	if m.hits, err = register(reg, m.hits); err != nil {
		return nil, err
	}
	if m.misses, err = register(reg, m.misses); err != nil {
		return nil, err
	}
	if m.circuit, err = register(reg, m.circuit); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c, or returns the identical collector already there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("pip: register metrics: %w", err)
	}
	return c, nil
}

func (m *Metrics) cacheHit(name string) {
	if m != nil {
		m.hits.WithLabelValues(name).Inc()
	}
}

func (m *Metrics) cacheMiss(name string) {
	if m != nil {
		m.misses.WithLabelValues(name).Inc()
	}
}

func (m *Metrics) circuitState(name string, s State) {
	if m != nil {
		m.circuit.WithLabelValues(name).Set(float64(s))
	}
}
