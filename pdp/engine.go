package pdp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/verdict-authz/verdict/pdp/xacmlfn"
	"github.com/verdict-authz/verdict/pip"
)

// Entry points of the compile contract (see xacml/compile).
const (
	resultQuery    = "data.verdict.main.result"
	policyIDsQuery = "data.verdict.main.policy_ids"
)

// ErrNoPolicy is returned by Decide before any policy was activated. The
// SDK turns it into a Deny: an engine without a policy never fails open.
var ErrNoPolicy = errors.New("pdp: no active policy")

// Engine decides requests against the active policy.
type Engine struct {
	active atomic.Pointer[prepared]
	cfg    config
	// swapMu serialises Activate calls (never Decide): it orders swaps so
	// an older revision prepared slowly cannot replace a newer one.
	swapMu sync.Mutex
}

// prepared is an activated policy: its prepared queries and input builder.
type prepared struct {
	policy  *Policy
	result  rego.PreparedEvalQuery
	input   *inputBuilder
	idsOnce sync.Once
	ids     rego.PreparedEvalQuery
	idsErr  error
	opts    []func(*rego.Rego)
}

// New returns an engine with no active policy.
func New(opts ...Option) *Engine {
	cfg := config{logger: slog.Default(), now: time.Now}
	for _, o := range opts {
		o.apply(&cfg)
	}
	return &Engine{cfg: cfg}
}

// Activate compiles and prepares p, then makes it the active policy. No
// lock is held while compiling: decisions keep running on the previous
// policy, and those in flight finish on it. A policy whose revision is
// older than the active one is refused with ErrStaleRevision.
func (e *Engine) Activate(ctx context.Context, p *Policy) error {
	if cur := e.active.Load(); cur != nil && p.Revision != 0 && p.Revision < cur.policy.Revision {
		return fmt.Errorf("%w: revision %d is older than active revision %d", ErrStaleRevision, p.Revision, cur.policy.Revision)
	}
	pr, err := e.prepare(ctx, p)
	if err != nil {
		return err
	}
	e.swapMu.Lock()
	defer e.swapMu.Unlock()
	if cur := e.active.Load(); cur != nil && p.Revision != 0 && p.Revision < cur.policy.Revision {
		return fmt.Errorf("%w: revision %d is older than active revision %d", ErrStaleRevision, p.Revision, cur.policy.Revision)
	}
	e.active.Store(pr)
	return nil
}

// ErrStaleRevision refuses a policy older than the active one.
var ErrStaleRevision = errors.New("pdp: stale revision")

// Active returns the active policy, or nil.
func (e *Engine) Active() *Policy {
	if pr := e.active.Load(); pr != nil {
		return pr.policy
	}
	return nil
}

func (e *Engine) prepare(ctx context.Context, p *Policy) (*prepared, error) {
	if len(p.Modules) == 0 {
		return nil, fmt.Errorf("pdp: policy has no modules")
	}
	var opts []func(*rego.Rego)
	names := make([]string, 0, len(p.Modules))
	for name := range p.Modules {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		opts = append(opts, rego.Module(name, p.Modules[name]))
	}
	opts = append(opts, xacmlfn.Options(e.cfg.fnOpts...)...)
	opts = append(opts, rego.Function4(pipDecl, e.pipBuiltin), rego.StrictBuiltinErrors(false))
	r := rego.New(append([]func(*rego.Rego){rego.Query(resultQuery)}, opts...)...)
	pq, err := r.PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("pdp: prepare policy: %w", err)
	}
	return &prepared{policy: p, result: pq, input: newInputBuilder(p.Attributes, p.AttributesComplete), opts: opts}, nil
}

// policyIDs prepares the policy-id query on first use: few requests ask for it.
func (pr *prepared) policyIDs(ctx context.Context) (rego.PreparedEvalQuery, error) {
	pr.idsOnce.Do(func() {
		r := rego.New(append([]func(*rego.Rego){rego.Query(policyIDsQuery)}, pr.opts...)...)
		pr.ids, pr.idsErr = r.PrepareForEval(ctx)
	})
	return pr.ids, pr.idsErr
}

// decisionState is what the verdict.pip builtin needs during one decision.
type decisionState struct {
	req  *Request
	memo *pip.Memo
}

type stateKey struct{}

// Decide evaluates a request against the active policy.
func (e *Engine) Decide(ctx context.Context, req *Request) (*Decision, error) {
	pr := e.active.Load()
	if pr == nil {
		return nil, ErrNoPolicy
	}
	start := time.Now()
	req = withCurrentTime(req, e.cfg.now().UTC(), pr.input)
	in, err := pr.input.build(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	st := &decisionState{req: req}
	if e.cfg.pips != nil {
		st.memo = pip.NewMemo()
	}
	ectx := context.WithValue(ctx, stateKey{}, st)
	rs, err := pr.result.Eval(ectx, rego.EvalParsedInput(in))
	if err != nil {
		return nil, fmt.Errorf("pdp: evaluate: %w", err)
	}
	d := &Decision{ID: newDecisionID(), Revision: pr.policy.Revision, Digest: pr.policy.Digest}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		// The root result is total by construction; undefined means the
		// evaluation itself failed.
		d.Effect, d.Extended = EffectIndeterminate, "DP"
		d.Status = Status{Code: StatusProcessingError, Message: "policy evaluation produced no result"}
	} else if err := decodeResult(rs[0].Expressions[0].Value, d); err != nil {
		return nil, err
	}
	if req.ReturnPolicyIDs {
		q, err := pr.policyIDs(ectx)
		if err != nil {
			return nil, fmt.Errorf("pdp: prepare policy id query: %w", err)
		}
		ids, err := q.Eval(ectx, rego.EvalParsedInput(in))
		if err != nil {
			return nil, fmt.Errorf("pdp: evaluate policy ids: %w", err)
		}
		if len(ids) > 0 && len(ids[0].Expressions) > 0 {
			d.PolicyIDs = decodePolicyIDs(ids[0].Expressions[0].Value)
		}
	}
	if st.memo != nil {
		d.PIPValues = st.memo.Records()
	}
	d.Duration = time.Since(start)
	return d, nil
}

// ErrBadRequest wraps request values the engine cannot use.
var ErrBadRequest = errors.New("pdp: bad request")

func newDecisionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func decodeResult(v any, d *Decision) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("pdp: unexpected result %T", v)
	}
	code, _ := m["d"].(string)
	switch code {
	case "P":
		d.Effect = EffectPermit
	case "D":
		d.Effect = EffectDeny
	case "NA":
		d.Effect = EffectNotApplicable
	case "IP", "ID", "IDP":
		d.Effect, d.Extended = EffectIndeterminate, code[1:]
	default:
		return fmt.Errorf("pdp: unexpected decision code %q", code)
	}
	d.Status.Code = StatusOK
	if d.Effect == EffectIndeterminate {
		d.Status.Code = StatusProcessingError
		if s, ok := m["s"].(string); ok && s != "" {
			d.Status.Code = s
		}
	}
	var err error
	if d.Obligations, err = decodeObligations(m["o"]); err != nil {
		return err
	}
	if d.Advice, err = decodeObligations(m["a"]); err != nil {
		return err
	}
	return nil
}

func decodeObligations(v any) ([]Obligation, error) {
	list, _ := v.([]any)
	if len(list) == 0 {
		return nil, nil
	}
	out := make([]Obligation, 0, len(list))
	for _, x := range list {
		m, _ := x.(map[string]any)
		id, _ := m["id"].(string)
		ob := Obligation{ID: id}
		as, _ := m["as"].([]any)
		for _, a := range as {
			am, _ := a.(map[string]any)
			asg := Assignment{}
			asg.AttributeID, _ = am["id"].(string)
			asg.Category, _ = am["c"].(string)
			asg.Issuer, _ = am["i"].(string)
			asg.Type, _ = am["t"].(string)
			val, err := ast.InterfaceToValue(am["v"])
			if err != nil {
				return nil, fmt.Errorf("pdp: obligation %s: %w", id, err)
			}
			if asg.Value, err = xacmlfn.Lexical(asg.Type, val); err != nil {
				return nil, fmt.Errorf("pdp: obligation %s: %w", id, err)
			}
			ob.Assignments = append(ob.Assignments, asg)
		}
		out = append(out, ob)
	}
	return out, nil
}

func decodePolicyIDs(v any) []PolicyID {
	list, _ := v.([]any)
	out := make([]PolicyID, 0, len(list))
	for _, x := range list {
		m, _ := x.(map[string]any)
		var p PolicyID
		p.Kind, _ = m["k"].(string)
		p.ID, _ = m["id"].(string)
		p.Version, _ = m["v"].(string)
		out = append(out, p)
	}
	return out
}
