package audit

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/server"
	"github.com/verdict-authz/verdict/pdp/xacmlfn"
	"github.com/verdict-authz/verdict/pip"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

var protoDecisions = map[pdp.Effect]verdictv1.Decision{
	pdp.EffectPermit:        verdictv1.Decision_DECISION_PERMIT,
	pdp.EffectDeny:          verdictv1.Decision_DECISION_DENY,
	pdp.EffectNotApplicable: verdictv1.Decision_DECISION_NOT_APPLICABLE,
	pdp.EffectIndeterminate: verdictv1.Decision_DECISION_INDETERMINATE,
}

// effectOf maps a protobuf decision filter to the stored decision text.
func effectOf(d verdictv1.Decision) string {
	for e, p := range protoDecisions {
		if p == d {
			return string(e)
		}
	}
	return ""
}

func toProtoRecord(e Entry) (*verdictv1.DecisionRecord, error) {
	r, err := e.Record()
	if err != nil {
		return nil, err
	}
	out := &verdictv1.DecisionRecord{
		DecisionId:        r.DecisionID,
		DecideTime:        timestamppb.New(r.Time),
		Service:           r.Service,
		InstanceId:        r.Instance,
		BundleRevision:    int64(r.Revision),
		BundleDigest:      r.Digest,
		EntryPoint:        r.EntryPoint,
		RequestAttributes: toProtoAttributes(r.Request),
		Result:            toProtoResult(r),
		Latency:           durationpb.New(r.Latency),
		ChainSequence:     e.Seq,
		ChainHash:         e.Hash,
	}
	for _, p := range r.PIPValues {
		out.PipFetches = append(out.PipFetches, toProtoPIP(p))
	}
	for _, m := range r.Masked {
		action := verdictv1.MaskAction_MASK_ACTION_DROP
		if m.Action == decisionlog.MaskHash {
			action = verdictv1.MaskAction_MASK_ACTION_HASH
		}
		out.MaskedFields = append(out.MaskedFields, &verdictv1.MaskedField{Path: m.Path, Action: action})
	}
	return out, nil
}

func toProtoAttributes(attrs []pdp.Attribute) []*verdictv1.RecordedAttribute {
	out := make([]*verdictv1.RecordedAttribute, 0, len(attrs))
	for _, a := range attrs {
		ra := &verdictv1.RecordedAttribute{Category: a.Category, AttributeId: a.ID, Issuer: a.Issuer}
		for _, v := range a.Values {
			if ra.DataType == "" {
				ra.DataType = xacmlfn.TypeURI(v.Type)
			}
			ra.Values = append(ra.Values, v.Lexical)
		}
		out = append(out, ra)
	}
	return out
}

func toProtoPIP(p pip.Record) *verdictv1.PipFetch {
	f := &verdictv1.PipFetch{Provider: p.Source, Error: p.Error, Latency: durationpb.New(p.Duration)}
	for id, bag := range p.Values {
		vals, err := pdp.JSONValues(bag)
		if err != nil {
			continue
		}
		f.Attributes = append(f.Attributes, toProtoAttributes([]pdp.Attribute{{Category: p.Category, ID: id, Values: vals}})...)
	}
	return f
}

func toProtoResult(r decisionlog.Record) *verdictv1.DecisionResult {
	return server.DecisionResult(&pdp.Decision{
		ID: r.DecisionID, Effect: r.Effect, Extended: r.Extended, Status: r.Status,
		Obligations: r.Obligations, Advice: r.Advice, PolicyIDs: r.PolicyIDs, Revision: r.Revision,
	})
}

func toProtoCheckpoint(c Checkpoint) *verdictv1.Checkpoint {
	return &verdictv1.Checkpoint{Service: c.Service, Sequence: c.Seq, ChainHash: c.Hash, SignTime: timestamppb.New(c.Time), KeyId: c.KeyID, Signature: c.Signature}
}

func fromProtoCheckpoint(c *verdictv1.Checkpoint) Checkpoint {
	var t time.Time
	if c.GetSignTime() != nil {
		t = c.GetSignTime().AsTime()
	}
	return Checkpoint{Service: c.GetService(), Seq: c.GetSequence(), Hash: c.GetChainHash(), Time: t, KeyID: c.GetKeyId(), Signature: c.GetSignature()}
}

var protoProblemKinds = map[ProblemKind]verdictv1.ChainProblemKind{
	ProblemModified:           verdictv1.ChainProblemKind_CHAIN_PROBLEM_KIND_MODIFIED,
	ProblemMissing:            verdictv1.ChainProblemKind_CHAIN_PROBLEM_KIND_MISSING,
	ProblemTruncated:          verdictv1.ChainProblemKind_CHAIN_PROBLEM_KIND_TRUNCATED,
	ProblemCheckpointMismatch: verdictv1.ChainProblemKind_CHAIN_PROBLEM_KIND_CHECKPOINT_MISMATCH,
	ProblemBadSignature:       verdictv1.ChainProblemKind_CHAIN_PROBLEM_KIND_BAD_SIGNATURE,
}

func toProtoReport(r Report) *verdictv1.ChainReport {
	out := &verdictv1.ChainReport{
		Service: r.Service, Intact: r.Intact, RecordsChecked: r.Checked,
		FirstSequence: r.First, LastSequence: r.Last, HeadChainHash: r.HeadHash,
	}
	if r.Checkpoint != nil {
		out.LatestCheckpoint = toProtoCheckpoint(*r.Checkpoint)
	}
	for _, t := range r.Tombstones {
		out.Tombstones = append(out.Tombstones, &verdictv1.Tombstone{
			FirstSequence: t.First, LastSequence: t.Last, LastChainHash: t.LastHash,
			DeleteTime: timestamppb.New(t.Time), KeyId: t.KeyID, SignatureValid: true,
		})
	}
	for _, p := range r.Problems {
		out.Problems = append(out.Problems, &verdictv1.ChainProblem{Kind: protoProblemKinds[p.Kind], Sequence: p.Seq, DecisionId: p.DecisionID, Detail: p.Detail})
	}
	return out
}
