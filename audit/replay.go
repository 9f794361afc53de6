package audit

import (
	"context"
	"fmt"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// Replay implements AuditService.Replay: it re-evaluates the recorded
// request against the recorded revision or another one, with PIPs that
// answer from the record (the recorded values, and the recorded failures,
// so that today's PIP data cannot change the answer and a decision made
// while a PIP was failing replays as it was made), and lists every
// difference, including the inputs the replay needed but the record lacks.
func (s *Service) Replay(ctx context.Context, in *verdictv1.ReplayRequest) (*verdictv1.ReplayResponse, error) {
	if s.policies == nil {
		return nil, fmt.Errorf("%w: no policy source for replay", ErrUnavailable)
	}
	e, err := s.st.Get(ctx, in.GetDecisionId())
	if err != nil {
		return nil, err
	}
	rec, err := e.Record()
	if err != nil {
		return nil, err
	}
	rev := in.GetRevision()
	if rev == 0 {
		rev = int64(rec.Revision)
	}
	pol, err := s.policies.Policy(ctx, rec.Service, rev)
	if err != nil {
		return nil, fmt.Errorf("audit: replay %s: policy %s@%d: %w", rec.DecisionID, rec.Service, rev, err)
	}
	inputs, err := newReplayInputs(rec)
	if err != nil {
		return nil, err
	}
	eng := pdp.New(pdp.WithPIPs(inputs.pips))
	if err := eng.Activate(ctx, pol); err != nil {
		return nil, fmt.Errorf("audit: replay %s: %w", rec.DecisionID, err)
	}
	d, err := eng.Decide(ctx, inputs.request)
	if err != nil {
		return nil, fmt.Errorf("audit: replay %s: %w", rec.DecisionID, err)
	}
	recorded, err := toProtoRecord(e)
	if err != nil {
		return nil, err
	}
	replayed := decisionlog.FromDecision(rec.Service, rec.Time, nil, d)
	res := toProtoResult(replayed)
	diffs := append(Differences(rec, replayed), inputs.unrecordedDifferences()...)
	return &verdictv1.ReplayResponse{
		Recorded:         recorded,
		Replayed:         res,
		ReplayedRevision: rev,
		DecisionChanged:  rec.Effect != d.Effect,
		Differences:      diffs,
		InputsMasked:     len(rec.Masked) > 0,
	}, nil
}

// Differences lists the fields in which the replayed decision differs
// from the recorded one (ids, timing and revision aside).
func Differences(recorded, replayed decisionlog.Record) []*verdictv1.ReplayDifference {
	var out []*verdictv1.ReplayDifference
	diff := func(field, a, b string) {
		if a != b {
			out = append(out, &verdictv1.ReplayDifference{Field: field, Recorded: a, Replayed: b})
		}
	}
	diff("decision", string(recorded.Effect), string(replayed.Effect))
	diff("extended", recorded.Extended, replayed.Extended)
	diff("status.code", recorded.Status.Code, replayed.Status.Code)
	diff("status.message", recorded.Status.Message, replayed.Status.Message)
	obligations := func(name string, a, b []pdp.Obligation) {
		for i := range max(len(a), len(b)) {
			diff(fmt.Sprintf("%s[%d]", name, i), obligationText(a, i), obligationText(b, i))
		}
	}
	obligations("obligations", recorded.Obligations, replayed.Obligations)
	obligations("advice", recorded.Advice, replayed.Advice)
	for i := range max(len(recorded.PolicyIDs), len(replayed.PolicyIDs)) {
		diff(fmt.Sprintf("policy_identifiers[%d]", i), policyText(recorded.PolicyIDs, i), policyText(replayed.PolicyIDs, i))
	}
	return out
}

func obligationText(obs []pdp.Obligation, i int) string {
	if i >= len(obs) {
		return ""
	}
	return fmt.Sprintf("%s %v", obs[i].ID, obs[i].Assignments)
}

func policyText(ids []pdp.PolicyID, i int) string {
	if i >= len(ids) {
		return ""
	}
	return ids[i].Kind + ":" + ids[i].ID + "@" + ids[i].Version
}
