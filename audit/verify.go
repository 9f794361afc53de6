package audit

import (
	"context"
	"fmt"
)

// ProblemKind classifies a tamper-evidence failure (mirrors
// verdict.v1.ChainProblemKind).
type ProblemKind string

// The problem kinds.
const (
	// ProblemModified: a record no longer matches its chain hash, or its
	// indexed columns no longer match the record.
	ProblemModified ProblemKind = "modified"
	// ProblemMissing: records are missing from the middle of the chain.
	ProblemMissing ProblemKind = "missing"
	// ProblemTruncated: the chain ends before a checkpoint's sequence.
	ProblemTruncated ProblemKind = "truncated"
	// ProblemCheckpointMismatch: the chain hash at a checkpoint's sequence
	// differs from the checkpoint's (the chain was rewritten).
	ProblemCheckpointMismatch ProblemKind = "checkpoint_mismatch"
	// ProblemBadSignature: a checkpoint's signature does not verify.
	ProblemBadSignature ProblemKind = "bad_signature"
)

// Problem is one failure, located as precisely as the chain allows.
type Problem struct {
	Kind       ProblemKind `json:"kind"`
	Seq        int64       `json:"seq"`
	DecisionID string      `json:"decision_id,omitempty"`
	Detail     string      `json:"detail"`
}

// Report is the verification of one service's chain.
type Report struct {
	Service    string      `json:"service"`
	Intact     bool        `json:"intact"`
	Checked    int64       `json:"records_checked"`
	First      int64       `json:"first_seq"`
	Last       int64       `json:"last_seq"`
	HeadHash   string      `json:"head_hash"`
	Checkpoint *Checkpoint `json:"latest_checkpoint,omitempty"`
	Problems   []Problem   `json:"problems,omitempty"`
	// Tombstones are the retention deletions accounted for.
	Tombstones []Tombstone `json:"tombstones,omitempty"`
}

// Verify checks service's chain in st: every record's hash, every link,
// every indexed column, contiguous positions, and the chain against the
// given checkpoints (each must verify with keys), which is what detects
// truncation of the tail and wholesale rewrites.
func Verify(ctx context.Context, st Store, keys Keys, service string, checkpoints ...Checkpoint) (Report, error) {
	rep := Report{Service: service}
	want := map[int64]string{}
	for _, c := range checkpoints {
		if c.Service != service {
			continue
		}
		if err := keys.Verify(c); err != nil {
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemBadSignature, Seq: c.Seq, Detail: err.Error()})
			continue
		}
		want[c.Seq] = c.Hash
		if rep.Checkpoint == nil || c.Seq > rep.Checkpoint.Seq {
			cp := c
			rep.Checkpoint = &cp
		}
	}
	tombs, err := st.Tombstones(ctx, service)
	if err != nil {
		return rep, fmt.Errorf("audit: verify %s: %w", service, err)
	}
	valid := map[int64]Tombstone{} // by First
	for _, t := range tombs {
		if err := keys.VerifyTombstone(t); err != nil {
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemBadSignature, Seq: t.First, Detail: err.Error()})
			continue
		}
		valid[t.First] = t
		rep.Tombstones = append(rep.Tombstones, t)
	}
	next, prev := int64(1), ""
	// skip follows signed tombstones from next, so that retention gaps
	// are not reported and the chain continues from the removed tail.
	skip := func() {
		for t, ok := valid[next]; ok; t, ok = valid[next] {
			next, prev = t.Last+1, t.LastHash
		}
	}
	skip()
	err = st.Scan(ctx, service, func(e Entry) error {
		rep.Checked++
		if rep.First == 0 {
			rep.First = e.Seq
		}
		switch {
		case e.Seq > next:
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemMissing, Seq: next, DecisionID: e.DecisionID,
				Detail: fmt.Sprintf("records %d to %d are missing", next, e.Seq-1)})
		case e.PrevHash != prev:
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemModified, Seq: e.Seq, DecisionID: e.DecisionID,
				Detail: "previous hash does not match the preceding record (it or this record was changed)"})
		}
		if h := ChainHash(e.Service, e.Seq, e.PrevHash, e.Data); h != e.Hash {
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemModified, Seq: e.Seq, DecisionID: e.DecisionID,
				Detail: "record content does not match its chain hash"})
		} else if parsed, err := NewEntry(e.Data); err != nil || parsed.Index != e.Index {
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemModified, Seq: e.Seq, DecisionID: e.DecisionID,
				Detail: "indexed columns do not match the record"})
		}
		if h, ok := want[e.Seq]; ok && h != e.Hash {
			rep.Problems = append(rep.Problems, Problem{Kind: ProblemCheckpointMismatch, Seq: e.Seq, DecisionID: e.DecisionID,
				Detail: "chain hash differs from the signed checkpoint's: the chain was rewritten"})
		}
		next, prev = e.Seq+1, e.Hash
		rep.Last, rep.HeadHash = e.Seq, e.Hash
		skip()
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("audit: verify %s: %w", service, err)
	}
	if next-1 > rep.Last { // the chain ends in a retention tombstone
		rep.Last, rep.HeadHash = next-1, prev
	}
	if cp := rep.Checkpoint; cp != nil && cp.Seq > rep.Last {
		rep.Problems = append(rep.Problems, Problem{Kind: ProblemTruncated, Seq: rep.Last + 1,
			Detail: fmt.Sprintf("chain ends at %d but a checkpoint signed %s vouches for %d records", rep.Last, cp.Time.Format("2006-01-02T15:04:05Z"), cp.Seq)})
	}
	rep.Intact = len(rep.Problems) == 0
	return rep, nil
}
