package sdklog_test

import (
	"context"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/audit/sdklog"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/sdk"
)

type capture []decisionlog.Record

func (c *capture) Log(_ context.Context, r decisionlog.Record) { *c = append(*c, r) }

func TestAdapterConvertsEveryField(t *testing.T) {
	var got capture
	a := sdklog.New(&got)
	now := time.Now()
	a.Log(t.Context(), sdk.Record{
		DecisionID: "d1", Time: now, Service: "orders", Revision: 7, Digest: "sha256:x",
		Request:     []pdp.Attribute{{Category: pdp.CategoryAction, ID: "name", Values: []pdp.Value{{Type: "string", Lexical: "GET"}}}},
		Effect:      pdp.EffectDeny,
		Status:      pdp.Status{Code: pdp.StatusOK},
		Obligations: []pdp.Obligation{{ID: "o"}},
		PolicyIDs:   []pdp.PolicyID{{Kind: "Policy", ID: "p"}},
		Latency:     time.Millisecond,
		Error:       "boom",
	})
	if len(got) != 1 {
		t.Fatalf("got %d records", len(got))
	}
	r := got[0]
	if r.DecisionID != "d1" || !r.Time.Equal(now) || r.Service != "orders" || r.Revision != 7 || r.Digest != "sha256:x" ||
		r.EntryPoint != "sdk" || r.Effect != pdp.EffectDeny || len(r.Request) != 1 || len(r.Obligations) != 1 ||
		len(r.PolicyIDs) != 1 || r.Latency != time.Millisecond || r.Error != "boom" {
		t.Fatalf("converted record = %+v", r)
	}
}
