// Package sdklog connects the SDK's embedded PDP to the decision log: it
// adapts a decisionlog.Logger to sdk.DecisionLogger. It lives outside
// pdp/decisionlog because pdp must not import sdk, and outside sdk so that
// services that log elsewhere do not link NATS.
package sdklog

import (
	"context"

	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/sdk"
)

// Sink is the part of decisionlog.Logger the adapter needs, so tests and
// other sinks of decisionlog.Records can stand in.
type Sink interface {
	Log(ctx context.Context, r decisionlog.Record)
}

// Adapter is an sdk.DecisionLogger writing to a decision-log Sink.
type Adapter struct {
	sink Sink
}

// New returns an sdk.DecisionLogger that converts every SDK record and
// hands it to sink; entry point "sdk" is recorded, since equivalent
// requests from different entry points may carry different attributes.
func New(sink Sink) *Adapter { return &Adapter{sink: sink} }

var _ sdk.DecisionLogger = (*Adapter)(nil)

// Log implements sdk.DecisionLogger.
func (a *Adapter) Log(ctx context.Context, r sdk.Record) {
	a.sink.Log(ctx, Convert(r))
}

// Convert turns an SDK record into a decision-log record.
func Convert(r sdk.Record) decisionlog.Record {
	return decisionlog.Record{
		DecisionID:  r.DecisionID,
		Time:        r.Time,
		Service:     r.Service,
		EntryPoint:  "sdk",
		Revision:    r.Revision,
		Digest:      r.Digest,
		Request:     r.Request,
		PIPValues:   r.PIPValues,
		Effect:      r.Effect,
		Status:      r.Status,
		Obligations: r.Obligations,
		Advice:      r.Advice,
		PolicyIDs:   r.PolicyIDs,
		Latency:     r.Latency,
		Error:       r.Error,
	}
}
