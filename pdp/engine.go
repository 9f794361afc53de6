package pdp

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

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

// prepared is an activated policy: the policy and its compiled form.
type prepared struct {
	policy *Policy
	*compiled
}

// compiled is what compiling a policy's content yields: prepared queries
// and the input builder. It depends on nothing but the content (the PIPs
// reach the builtin through the decision's context), so engines that
// share a Cache share it.
type compiled struct {
	result  rego.PreparedEvalQuery
	input   *inputBuilder
	idsOnce sync.Once
	ids     rego.PreparedEvalQuery
	idsErr  error
	opts    []func(*rego.Rego)
	// txn is a read transaction on the policy's private, empty store,
	// opened once: nothing ever writes there, and opening one per decision
	// is work OPA would repeat for nothing.
	txn storage.Transaction
	// metrics is a no-op sink: the engine keeps its own measurements.
	metrics metrics.Metrics
	caches  ruleCachePool
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
	var c *compiled
	var err error
	if e.cfg.cache != nil && len(e.cfg.fnOpts) == 0 {
		c, err = e.cfg.cache.get(ctx, p, e.compile)
	} else {
		c, err = e.compile(ctx, p)
	}
	if err != nil {
		return nil, err
	}
	return &prepared{policy: p, compiled: c}, nil
}

// compile parses, compiles and prepares p's content.
func (e *Engine) compile(ctx context.Context, p *Policy) (*compiled, error) {
	var opts []func(*rego.Rego)
	names := make([]string, 0, len(p.Modules))
	for name := range p.Modules {
		names = append(names, name)
	}
	sort.Strings(names)
	var layout inputLayout
	for _, name := range names {
		m, err := ast.ParseModuleWithOpts(name, p.Modules[name], ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			return nil, fmt.Errorf("pdp: parse %s: %w", name, err)
		}
		layout.scan(m)
		opts = append(opts, rego.ParsedModule(m))
	}
	opts = append(opts, xacmlfn.Options(e.cfg.fnOpts...)...)
	store := inmem.New()
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		return nil, fmt.Errorf("pdp: open store: %w", err)
	}
	opts = append(opts, rego.Function4(pipDecl, pipBuiltin), rego.StrictBuiltinErrors(false),
		rego.Store(store), rego.GenerateJSON(keepTerm))
	if p.AttributesComplete {
		opts = append(opts, rego.CompilerHook(skipGeneratedChecks))
	}
	r := rego.New(append([]func(*rego.Rego){rego.Query(resultQuery)}, opts...)...)
	pq, err := r.PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("pdp: prepare policy: %w", err)
	}
	return &compiled{result: pq, input: newInputBuilder(p.Attributes, p.AttributesComplete, layout.flat, layout.nested), opts: opts,
		txn: txn, metrics: metrics.NoOp()}, nil
}

// skipGeneratedChecks leaves out the compiler stages that only find
// mistakes the XACML compiler cannot make: its output is recursion-free
// (the checker refuses reference cycles), well typed, and neither imports
// unused packages nor calls deprecated builtins (pap/build's
// TestGeneratedRegoPassesEveryCheck activates its output with every check
// on). These stages, and the dependency graph only they use, are most of
// OPA's compile time on large policies. Hand-written policies
// (AttributesComplete unset) keep every check.
func skipGeneratedChecks(c *ast.Compiler) {
	c.WithSkipStages(ast.StageCheckRecursion, ast.StageCheckTypes, ast.StageCheckUnusedImports,
		ast.StageCheckDeprecatedBuiltins, ast.StageBuildRequiredCapabilities, ast.StageRewriteTestRulesForTracing,
		ast.StageSetGraph)
}

// keepTerm hands query results over as OPA terms: the engine decodes the
// few fields it needs from them instead of having every result converted
// to Go maps first.
func keepTerm(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

// eval runs a prepared query of this policy on one input. Cancellation is
// wired to ctx without the goroutine OPA would otherwise start per query.
func (pr *compiled) eval(ctx context.Context, q rego.PreparedEvalQuery, in ast.Value) (rego.ResultSet, error) {
	c := topdown.NewCancel()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, c.Cancel)
		defer stop()
	}
	vc := pr.caches.get()
	defer pr.caches.put(vc)
	return q.Eval(ctx, rego.EvalParsedInput(in), rego.EvalTransaction(pr.txn), rego.EvalMetrics(pr.metrics),
		rego.EvalExternalCancel(c), rego.EvalVirtualCache(vc))
}

// policyIDs prepares the policy-id query on first use: few requests ask for it.
func (pr *compiled) policyIDs(ctx context.Context) (rego.PreparedEvalQuery, error) {
	pr.idsOnce.Do(func() {
		r := rego.New(append([]func(*rego.Rego){rego.Query(policyIDsQuery)}, pr.opts...)...)
		pr.ids, pr.idsErr = r.PrepareForEval(ctx)
	})
	return pr.ids, pr.idsErr
}

// decisionState is what the verdict.pip builtin needs during one decision.
type decisionState struct {
	pips *pip.Set
	req  *Request
	memo *pip.Memo
	keys []string
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
	// The PIP memo is created by the first fetch: most decisions need none.
	st := &decisionState{pips: e.cfg.pips, req: req}
	ectx := context.WithValue(ctx, stateKey{}, st)
	rs, err := pr.eval(ectx, pr.result, in)
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
		ids, err := pr.eval(ectx, q, in)
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

// newDecisionID returns 128 random bits in hex. Decision ids must be
// unique, not secret: the runtime's ChaCha8 generator (seeded from the
// operating system) gives that without a system call per decision.
func newDecisionID() string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	return hex.EncodeToString(b[:])
}
