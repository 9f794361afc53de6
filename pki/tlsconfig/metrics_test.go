package tlsconfig_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

func TestHandshakeMetrics(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	m, err := tlsconfig.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tlsconfig.NewMetrics(reg); err == nil {
		t.Fatal("double registration accepted")
	}
	sc := tlsconfig.ServerConfig(e.source(t, "billing"), tlsconfig.WithMetrics(m), tlsconfig.WithRevocationChecker(e.ca.Revocations()), tlsconfig.WithLogger(slogDiscard()))
	good := e.source(t, "orders")
	bad := e.source(t, "orders")
	if err := e.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: admin, Serial: bad.SVID().Leaf().SerialNumber}); err != nil {
		t.Fatal(err)
	}
	for _, src := range []*tlsconfig.Source{good, good, bad} {
		cc := tlsconfig.ClientConfig(src, tlsconfig.WithMetrics(m), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(td, "billing"))), tlsconfig.WithLogger(slogDiscard()))
		handshake(t, sc, cc)
	}
	expect := map[[3]string]float64{
		{"server", "orders", "ok"}:      2,
		{"server", "orders", "revoked"}: 1,
		{"client", "billing", "ok"}:     3,
	}
	got := map[[3]string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, metric := range mf.GetMetric() {
			var l [3]string
			for _, lp := range metric.GetLabel() {
				switch lp.GetName() {
				case "side":
					l[0] = lp.GetValue()
				case "peer":
					l[1] = lp.GetValue()
				case "result":
					l[2] = lp.GetValue()
				}
			}
			got[l] = metric.GetCounter().GetValue()
		}
	}
	for labels, want := range expect {
		if got[labels] != want {
			t.Errorf("handshakes%v = %v, want %v (all: %v)", labels, got[labels], want, got)
		}
	}
}
