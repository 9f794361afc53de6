package ca

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the CA's Prometheus series. They are registered on the
// registerer given with WithRegisterer, never on the global registry, so that
// several CAs (tests, embedded setups) can coexist.
type metrics struct {
	issued   *prometheus.CounterVec
	renewed  *prometheus.CounterVec
	revoked  *prometheus.CounterVec
	expiring prometheus.Gauge
	tokens   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_ca_certificates_issued_total",
			Help: "Certificates issued, by profile and how they were requested (issue, sign, newcert, join, renew).",
		}, []string{"profile", "method"}),
		renewed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_ca_certificates_renewed_total",
			Help: "Certificates renewed by their holder, by profile.",
		}, []string{"profile"}),
		revoked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_ca_certificates_revoked_total",
			Help: "Certificates revoked, by RFC 5280 reason.",
		}, []string{"reason"}),
		expiring: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "verdict_ca_certificates_expiring_soon",
			Help: "Unrevoked certificates whose NotAfter falls within the expiring-soon window.",
		}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "verdict_ca_join_tokens_total",
			Help: "Join token operations, by result (created, redeemed, rejected).",
		}, []string{"result"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.issued, m.renewed, m.revoked, m.expiring, m.tokens} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// unregister removes the series again, so that a CA that failed to start
// does not block the next attempt on the same registerer.
func (m *metrics) unregister(reg prometheus.Registerer) {
	if reg == nil {
		return
	}
	for _, c := range []prometheus.Collector{m.issued, m.renewed, m.revoked, m.expiring, m.tokens} {
		reg.Unregister(c)
	}
}
