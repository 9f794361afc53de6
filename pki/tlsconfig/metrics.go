package tlsconfig

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// Metrics counts verified handshakes by side, peer service and result. One
// Metrics value is shared by every configuration of a process.
type Metrics struct {
	handshakes *prometheus.CounterVec
}

// NewMetrics registers the handshake counter on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "verdict_tls_handshakes_total",
		Help: "TLS peer verifications by side (server/client), peer service and result (ok or the refusal reason).",
	}, []string{"side", "peer", "result"})}
	if reg != nil {
		if err := reg.Register(m.handshakes); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *Metrics) observe(side string, id spiffeid.ID, result string) {
	if m == nil {
		return
	}
	m.handshakes.WithLabelValues(side, id.Service(), result).Inc()
}
