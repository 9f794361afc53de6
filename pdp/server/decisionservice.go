package server

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/xacmlfn"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// rpcError is a DecisionService failure with its code; the gRPC and
// Connect adapters turn it into their own error types (Connect codes are
// gRPC's).
type rpcError struct {
	code codes.Code
	msg  string
}

func (e *rpcError) Error() string { return e.msg }

func rpcErrorf(code codes.Code, format string, args ...any) *rpcError {
	return &rpcError{code: code, msg: fmt.Sprintf(format, args...)}
}

// rpcDecisionError maps an error of acquire or decide to a code.
func rpcDecisionError(err error) *rpcError {
	switch {
	case errors.Is(err, ErrNotReady):
		return rpcErrorf(codes.Unavailable, "the PDP has no active policy yet")
	case errors.Is(err, ErrBusy):
		return rpcErrorf(codes.ResourceExhausted, "the PDP is overloaded: %v", err)
	case errors.Is(err, pdp.ErrBadRequest):
		return rpcErrorf(codes.InvalidArgument, "%v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return rpcErrorf(codes.DeadlineExceeded, "%v", err)
	case errors.Is(err, context.Canceled):
		return rpcErrorf(codes.Canceled, "%v", err)
	}
	return rpcErrorf(codes.Internal, "%v", err)
}

func structMap(s *structpb.Struct) map[string]any {
	if s == nil || len(s.GetFields()) == 0 {
		return nil
	}
	return s.AsMap()
}

func fieldsOf(kv ...string) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			m[kv[i]] = kv[i+1]
		}
	}
	return m
}

func protoSubject(p *verdictv1.Subject) *entity {
	if p == nil {
		return nil
	}
	return &entity{fields: fieldsOf("type", p.GetType(), "id", p.GetId()), props: structMap(p.GetProperties())}
}

func protoAction(p *verdictv1.Action) *entity {
	if p == nil {
		return nil
	}
	return &entity{fields: fieldsOf("name", p.GetName()), props: structMap(p.GetProperties())}
}

func protoResource(p *verdictv1.Resource) *entity {
	if p == nil {
		return nil
	}
	return &entity{fields: fieldsOf("type", p.GetType(), "id", p.GetId()), props: structMap(p.GetProperties())}
}

// protoRequest maps one decided evaluation to engine attributes, with the
// bearer token's claims when one is given.
func (s *Server) protoRequest(ctx context.Context, ev evaluation, prefix, token string) (*pdp.Request, *rpcError) {
	req := fullRequirement
	req.subjectOptional = token != ""
	if err := ev.check(prefix, req); err != nil {
		return nil, rpcErrorf(codes.InvalidArgument, "%v", err)
	}
	r, err := ev.request()
	if err != nil {
		return nil, rpcErrorf(codes.InvalidArgument, "%s%v", prefix, err)
	}
	if token != "" {
		if s.cfg.validator == nil {
			return nil, rpcErrorf(codes.InvalidArgument, "bearer_token given, but this PDP has no token validation configured")
		}
		attrs, err := s.cfg.validator.Validate(ctx, token)
		if err != nil {
			return nil, rpcErrorf(codes.Unauthenticated, "invalid bearer token: %v", err)
		}
		if err := addClaims(r, attrs); err != nil {
			return nil, rpcErrorf(codes.InvalidArgument, "%v", err)
		}
	}
	return r, nil
}

var protoDecisions = map[pdp.Effect]verdictv1.Decision{
	pdp.EffectPermit:        verdictv1.Decision_DECISION_PERMIT,
	pdp.EffectDeny:          verdictv1.Decision_DECISION_DENY,
	pdp.EffectNotApplicable: verdictv1.Decision_DECISION_NOT_APPLICABLE,
	pdp.EffectIndeterminate: verdictv1.Decision_DECISION_INDETERMINATE,
}

// DecisionResult maps a decision to the protobuf result, keeping the full
// XACML decision besides the AuthZEN boolean. It is exported so that every
// API returning decisions (this server, the audit service) shows them alike.
func DecisionResult(d *pdp.Decision) *verdictv1.DecisionResult {
	code := d.Status.Code
	if code == "" {
		code = pdp.StatusOK
	}
	res := &verdictv1.DecisionResult{
		Decision:       protoDecisions[d.Effect],
		Allowed:        d.Effect == pdp.EffectPermit,
		XacmlDecision:  string(d.Effect),
		Status:         &verdictv1.DecisionStatus{Code: code, Message: d.Status.Message},
		BundleRevision: int64(d.Revision),
		DecisionId:     d.ID,
	}
	for _, o := range d.Obligations {
		res.Obligations = append(res.Obligations, &verdictv1.Obligation{Id: o.ID, AttributeAssignments: protoAssignments(o.Assignments)})
	}
	for _, a := range d.Advice {
		res.Advice = append(res.Advice, &verdictv1.Advice{Id: a.ID, AttributeAssignments: protoAssignments(a.Assignments)})
	}
	for _, p := range d.PolicyIDs {
		kind := verdictv1.PolicyKind_POLICY_KIND_POLICY
		if p.Kind == "PolicySet" {
			kind = verdictv1.PolicyKind_POLICY_KIND_POLICY_SET
		}
		res.PolicyIdentifiers = append(res.PolicyIdentifiers, &verdictv1.PolicyIdentifier{Kind: kind, Id: p.ID, Version: p.Version})
	}
	return res
}

func protoAssignments(as []pdp.Assignment) []*verdictv1.AttributeAssignment {
	out := make([]*verdictv1.AttributeAssignment, 0, len(as))
	for _, a := range as {
		out = append(out, &verdictv1.AttributeAssignment{
			AttributeId: a.AttributeID, Category: a.Category, Issuer: a.Issuer,
			DataType: xacmlfn.TypeURI(a.Type), Value: a.Value,
		})
	}
	return out
}

// evaluateRPC implements DecisionService.Evaluate for both transports.
func (s *Server) evaluateRPC(ctx context.Context, in *verdictv1.EvaluateRequest) (*verdictv1.EvaluateResponse, *rpcError) {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	err := s.acquire(ctx)
	if err != nil {
		return nil, rpcDecisionError(err)
	}
	defer s.release()
	ev := evaluation{
		subject:  protoSubject(in.GetSubject()),
		action:   protoAction(in.GetAction()),
		resource: protoResource(in.GetResource()),
		context:  structMap(in.GetContext()),
	}
	req, rerr := s.protoRequest(ctx, ev, "", in.GetBearerToken())
	if rerr != nil {
		return nil, rerr
	}
	d, err := s.decide(ctx, req)
	if err != nil {
		return nil, rpcDecisionError(err)
	}
	return &verdictv1.EvaluateResponse{Result: DecisionResult(d)}, nil
}

// evaluateBatchRPC implements DecisionService.EvaluateBatch for both
// transports, with AuthZEN's defaults and semantics. Unlike the AuthZEN
// HTTP binding, an item that cannot be read fails the call
// (INVALID_ARGUMENT naming the item), as decision.proto specifies.
func (s *Server) evaluateBatchRPC(ctx context.Context, in *verdictv1.EvaluateBatchRequest) (*verdictv1.EvaluateBatchResponse, *rpcError) {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	if n := len(in.GetEvaluations()); n > s.cfg.maxBatch {
		return nil, rpcErrorf(codes.InvalidArgument, "evaluations has %d items, more than the limit of %d", n, s.cfg.maxBatch)
	}
	err := s.acquire(ctx)
	if err != nil {
		return nil, rpcDecisionError(err)
	}
	defer s.release()
	defaults := evaluation{
		subject:  protoSubject(in.GetSubject()),
		action:   protoAction(in.GetAction()),
		resource: protoResource(in.GetResource()),
		context:  structMap(in.GetContext()),
	}
	items := make([]evaluation, 0, max(1, len(in.GetEvaluations())))
	for _, it := range in.GetEvaluations() {
		items = append(items, evaluation{
			subject:  protoSubject(it.GetSubject()),
			action:   protoAction(it.GetAction()),
			resource: protoResource(it.GetResource()),
			context:  structMap(it.GetContext()),
		}.merged(defaults))
	}
	if len(items) == 0 {
		items = append(items, defaults)
	}
	reqs := make([]*pdp.Request, len(items))
	for i, ev := range items {
		prefix := ""
		if len(in.GetEvaluations()) > 0 {
			prefix = fmt.Sprintf("evaluations[%d].", i)
		}
		var rerr *rpcError
		if reqs[i], rerr = s.protoRequest(ctx, ev, prefix, in.GetBearerToken()); rerr != nil {
			return nil, rerr
		}
	}
	sem := in.GetOptions().GetEvaluationsSemantic()
	out := &verdictv1.EvaluateBatchResponse{Evaluations: make([]*verdictv1.DecisionResult, 0, len(reqs))}
	for _, req := range reqs {
		d, err := s.decide(ctx, req)
		if err != nil {
			return nil, rpcDecisionError(err)
		}
		res := DecisionResult(d)
		out.Evaluations = append(out.Evaluations, res)
		if (sem == verdictv1.EvaluationsSemantic_EVALUATIONS_SEMANTIC_DENY_ON_FIRST_DENY && !res.Allowed) ||
			(sem == verdictv1.EvaluationsSemantic_EVALUATIONS_SEMANTIC_PERMIT_ON_FIRST_PERMIT && res.Allowed) {
			break
		}
	}
	return out, nil
}

// grpcDecisionService adapts the DecisionService to grpc-go.
type grpcDecisionService struct {
	verdictv1.UnimplementedDecisionServiceServer
	svc *Server
}

func grpcError(e *rpcError) error { return status.Error(e.code, e.msg) }

func (g *grpcDecisionService) Evaluate(ctx context.Context, in *verdictv1.EvaluateRequest) (*verdictv1.EvaluateResponse, error) {
	out, err := g.svc.evaluateRPC(ctx, in)
	if err != nil {
		return nil, grpcError(err)
	}
	return out, nil
}

func (g *grpcDecisionService) EvaluateBatch(ctx context.Context, in *verdictv1.EvaluateBatchRequest) (*verdictv1.EvaluateBatchResponse, error) {
	out, err := g.svc.evaluateBatchRPC(ctx, in)
	if err != nil {
		return nil, grpcError(err)
	}
	return out, nil
}

// connectDecisionService adapts the DecisionService to connect-go, served
// on the HTTP port (Connect, gRPC and gRPC-Web protocols).
type connectDecisionService struct {
	svc *Server
}

func connectError(e *rpcError) error {
	return connect.NewError(connect.Code(e.code), errors.New(e.msg))
}

func (c *connectDecisionService) Evaluate(ctx context.Context, req *connect.Request[verdictv1.EvaluateRequest]) (*connect.Response[verdictv1.EvaluateResponse], error) {
	out, err := c.svc.evaluateRPC(ctx, req.Msg)
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(out), nil
}

func (c *connectDecisionService) EvaluateBatch(ctx context.Context, req *connect.Request[verdictv1.EvaluateBatchRequest]) (*connect.Response[verdictv1.EvaluateBatchResponse], error) {
	out, err := c.svc.evaluateBatchRPC(ctx, req.Msg)
	if err != nil {
		return nil, connectError(err)
	}
	return connect.NewResponse(out), nil
}
