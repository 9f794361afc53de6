package server

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count what the PAP changes: pushes and rollbacks by result.
type metrics struct {
	changes *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "verdict", Subsystem: "pap", Name: "changes_total",
			Help: "Pushes and rollbacks by action and result: stored (and published), refused (failed checks), unpublished (stored, publish pending), failed.",
		}, []string{"action", "result"}),
	}
	if reg != nil {
		if err := reg.Register(m.changes); err != nil {
			return nil, fmt.Errorf("server: registering metrics: %w", err)
		}
	}
	return m, nil
}
