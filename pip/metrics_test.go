package pip

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// sample returns the value of the series name{labels} gathered from reg,
// and whether it exists.
func sample(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				return m.GetCounter().GetValue(), true
			case dto.MetricType_GAUGE:
				return m.GetGauge().GetValue(), true
			case dto.MetricType_HISTOGRAM:
				return float64(m.GetHistogram().GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	// A second NewMetrics on the same registry shares the collectors.
	m2, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if m2.fetches != m.fetches {
		t.Fatal("second NewMetrics did not reuse the registered collectors")
	}

	clock := newFakeClock()
	inner := newRecorder(users())
	p := Wrap(inner, WithName("users"), WithMetrics(m), WithCache(time.Minute, 10), WithBreaker(1, time.Minute), WithClock(clock))
	q := Query{Category: CategoryAccessSubject, Key: "alice", Attributes: []string{"roles"}}
	for range 3 {
		if _, err := p.Fetch(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	inner.setFail(errors.New("down"))
	q.Key = "bob"
	_, _ = p.Fetch(t.Context(), q) // fails, opens the circuit
	_, _ = p.Fetch(t.Context(), q) // refused by the open circuit

	users := map[string]string{"provider": "users"}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"verdict_pip_fetches_total", users, 3},
		{"verdict_pip_cache_hits_total", users, 2},
		{"verdict_pip_cache_misses_total", users, 3},
		{"verdict_pip_fetch_errors_total", map[string]string{"provider": "users", "reason": "error"}, 1},
		{"verdict_pip_fetch_errors_total", map[string]string{"provider": "users", "reason": "circuit_open"}, 1},
		{"verdict_pip_circuit_state", users, float64(StateOpen)},
		{"verdict_pip_fetch_duration_seconds", users, 3},
	}
	for _, c := range checks {
		got, ok := sample(t, reg, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
}

func TestNewMetricsNeedsARegisterer(t *testing.T) {
	if _, err := NewMetrics(nil); err == nil {
		t.Fatal("NewMetrics(nil) succeeded; it must never fall back to the default registry")
	}
	reg := prometheus.NewRegistry()
	// A different collector under the same name is a real conflict.
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "verdict_pip_fetches_total", Help: "x"}))
	if _, err := NewMetrics(reg); err == nil {
		t.Fatal("NewMetrics ignored a conflicting registration")
	}
}

func TestReason(t *testing.T) {
	ctx := t.Context()
	tests := map[error]string{
		ErrCircuitOpen:      "circuit_open",
		ErrTimeout:          "timeout",
		ErrInvalidValue:     "invalid_value",
		errors.New("other"): "error",
	}
	for err, want := range tests {
		if got := reason(ctx, err); got != want {
			t.Errorf("reason(%v) = %q, want %q", err, got, want)
		}
	}
	canceled, cancel := contextWithCancel(t)
	cancel()
	if got := reason(canceled, errors.New("x")); got != "canceled" {
		t.Errorf("reason after cancel = %q", got)
	}
}
