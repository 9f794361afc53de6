package decisionlog

import (
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pip"
)

// Record is one entry of the decision log: everything an auditor needs to
// explain a decision and to re-evaluate it later. Its JSON form is what
// travels on NATS and what the audit store hashes, so field names are part
// of the log's format.
type Record struct {
	// DecisionID is the decision's id, the key shared by PEP logs, the
	// JetStream message id (deduplication) and the audit store.
	DecisionID string `json:"decision_id"`
	// Time is when the decision was asked for.
	Time time.Time `json:"time"`
	// Service is the service whose PDP decided.
	Service string `json:"service"`
	// Instance identifies the PDP process, to trace a decision to it.
	Instance string `json:"instance,omitempty"`
	// EntryPoint says how the request arrived: "sdk" for the SDK's
	// embedded PDP, "remote" for the remote PDP.
	EntryPoint string `json:"entry_point,omitempty"`
	// Revision and Digest identify the policy in force.
	Revision uint64 `json:"revision"`
	Digest   string `json:"digest,omitempty"`
	// Request holds the request's attributes after masking.
	Request []pdp.Attribute `json:"request"`
	// PIPValues are the PIP fetches made for the decision, after masking.
	PIPValues []pip.Record `json:"pip_values,omitempty"`
	// Effect, Extended and Status are the decision and why.
	Effect   pdp.Effect `json:"effect"`
	Extended string     `json:"extended,omitempty"`
	Status   pdp.Status `json:"status"`
	// Obligations and Advice are those returned with the decision.
	Obligations []pdp.Obligation `json:"obligations,omitempty"`
	Advice      []pdp.Obligation `json:"advice,omitempty"`
	// PolicyIDs lists the applicable (matched) policies.
	PolicyIDs []pdp.PolicyID `json:"policy_ids,omitempty"`
	// Latency is how long the decision took, PIP lookups included.
	Latency time.Duration `json:"latency_ns"`
	// Error is set when the decision failed closed, and says why.
	Error string `json:"error,omitempty"`
	// Masked lists every field masking changed, so that auditors and
	// replay know which recorded inputs are not the originals.
	Masked []MaskedField `json:"masked,omitempty"`
}

// FromDecision builds the record of one decision. It copies the request's
// attributes so that the caller may reuse the request once it returns.
func FromDecision(service string, start time.Time, req *pdp.Request, d *pdp.Decision) Record {
	r := Record{
		DecisionID:  d.ID,
		Time:        start,
		Service:     service,
		Revision:    d.Revision,
		Digest:      d.Digest,
		PIPValues:   d.PIPValues,
		Effect:      d.Effect,
		Extended:    d.Extended,
		Status:      d.Status,
		Obligations: d.Obligations,
		Advice:      d.Advice,
		PolicyIDs:   d.PolicyIDs,
		Latency:     d.Duration,
	}
	if req != nil {
		r.Request = cloneAttributes(req.Attributes)
	}
	return r
}

// cloneAttributes deep-copies attributes with two allocations, which keeps
// the per-decision cost of logging low.
func cloneAttributes(attrs []pdp.Attribute) []pdp.Attribute {
	n := 0
	for _, a := range attrs {
		n += len(a.Values)
	}
	out := make([]pdp.Attribute, len(attrs))
	vals := make([]pdp.Value, 0, n)
	for i, a := range attrs {
		start := len(vals)
		vals = append(vals, a.Values...)
		out[i] = a
		out[i].Values = vals[start:len(vals):len(vals)]
	}
	return out
}
