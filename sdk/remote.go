package sdk

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/xacmlfn"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
	"github.com/verdict-authz/verdict/token"
)

// DefaultRemoteTimeout bounds a remote decision whose context has no
// deadline, so that a PDP that stopped answering refuses requests instead of
// hanging them.
const DefaultRemoteTimeout = 2 * time.Second

// RemoteOption configures NewRemote.
type RemoteOption interface{ applyToRemote(*remoteConfig) }

type remoteConfig struct {
	plaintext   bool
	subjectType string
	timeout     time.Duration
	connectOpts []connect.ClientOption
	// mtls and mtlsPeer: WithMutualTLS.
	mtls     *MutualTLS
	mtlsPeer spiffeid.ID
}

type remoteOptionFunc func(*remoteConfig)

func (f remoteOptionFunc) applyToRemote(c *remoteConfig) { f(c) }

// WithInsecurePlaintext allows NewRemote without TLS, for a PDP on the same
// host: the URL must be http:// on a loopback address, so that decisions
// never cross a network in the clear.
func WithInsecurePlaintext() RemoteOption {
	return remoteOptionFunc(func(c *remoteConfig) { c.plaintext = true })
}

// WithSubjectType sets the AuthZEN subject type sent for requests whose
// subject has no "type" attribute (requests built from a JWT have none),
// since the DecisionService requires one. Without it such requests fail
// closed with ErrNotRepresentable.
func WithSubjectType(t string) RemoteOption {
	return remoteOptionFunc(func(c *remoteConfig) { c.subjectType = t })
}

// WithRemoteTimeout bounds each remote decision whose context has no
// deadline (default DefaultRemoteTimeout; 0 means no bound).
func WithRemoteTimeout(d time.Duration) RemoteOption {
	return remoteOptionFunc(func(c *remoteConfig) { c.timeout = d })
}

// WithConnectOptions passes options to the Connect client, for example
// connect.WithGRPC() to speak gRPC to the PDP's HTTP/2 listener.
func WithConnectOptions(opts ...connect.ClientOption) RemoteOption {
	return remoteOptionFunc(func(c *remoteConfig) { c.connectOpts = append(c.connectOpts, opts...) })
}

// Remote asks a remote PDP (verdict pdp serve) for decisions over its
// Connect DecisionService. It satisfies Decider with the same contract as
// *PDP — in particular it never fails open: a PDP that cannot be reached or
// answers inconsistently gives a Deny with the error — so enforcement
// points work unchanged in front of it.
//
// Requests travel in the AuthZEN shape of the DecisionService (DESIGN.md
// contract 3), which the PDP maps back to the same attributes: subject,
// action and resource attributes become the entities' members and
// properties, environment attributes the context. The subject's "type"
// and "id", the action's "name" and the resource's "type" and "id" are
// required by the service (subject-id, action-id and resource-id stand in
// for a missing id or name; see WithSubjectType for the type). Values keep
// their lexical form except doubles, which travel as JSON numbers; typed
// values such as xs:dateTime travel as strings, which the engine converts to
// the type the policy designates. A request that cannot be represented
// faithfully (an attribute issuer, another category) fails closed with
// ErrNotRepresentable.
type Remote struct {
	client    verdictv1connect.DecisionServiceClient
	transport *http.Transport
	cfg       remoteConfig
	closed    atomic.Bool
}

// NewRemote returns a client of the remote PDP at baseURL (for example
// https://pdp.internal:8181). tlsConfig authenticates the PDP and, with a
// client certificate, this service to it; nil requires
// WithInsecurePlaintext and a loopback http:// URL.
func NewRemote(baseURL string, tlsConfig *tls.Config, opts ...RemoteOption) (*Remote, error) {
	cfg := remoteConfig{timeout: DefaultRemoteTimeout}
	for _, o := range opts {
		if o != nil {
			o.applyToRemote(&cfg)
		}
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("%w: remote PDP URL: %w", ErrConfig, err)
	}
	if cfg.mtls != nil && tlsConfig == nil {
		tlsConfig = cfg.mtls.ClientConfig(cfg.mtlsPeer)
	}
	switch {
	case cfg.timeout < 0:
		return nil, fmt.Errorf("%w: negative remote timeout", ErrConfig)
	case tlsConfig != nil && u.Scheme != "https":
		return nil, fmt.Errorf("%w: remote PDP URL %s: TLS needs an https URL", ErrConfig, baseURL)
	case tlsConfig == nil && !cfg.plaintext:
		return nil, fmt.Errorf("%w: remote PDP needs a TLS configuration (or WithInsecurePlaintext on loopback)", ErrConfig)
	case tlsConfig == nil && (u.Scheme != "http" || !isLoopback(u.Hostname())):
		return nil, fmt.Errorf("%w: plaintext to the remote PDP is allowed only to a loopback http:// URL, not %s", ErrConfig, baseURL)
	}
	tr := &http.Transport{
		Proxy:               nil,
		ForceAttemptHTTP2:   true,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	if tlsConfig != nil {
		tr.TLSClientConfig = tlsConfig.Clone()
		if cfg.mtls != nil {
			tr.DialTLSContext = cfg.mtls.dialTLS(tlsConfig)
		}
	}
	client := verdictv1connect.NewDecisionServiceClient(&http.Client{Transport: tr}, strings.TrimRight(baseURL, "/"), cfg.connectOpts...)
	return &Remote{client: client, transport: tr, cfg: cfg}, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Decide asks the remote PDP. As with PDP.Decide, a non-nil error comes
// with a Deny decision saying why.
func (r *Remote) Decide(ctx context.Context, req *pdp.Request) (*pdp.Decision, error) {
	start := time.Now()
	d, err := r.decide(ctx, req)
	if err != nil {
		err = fmt.Errorf("sdk: remote decide: %w", err)
		return denyDecision(err, nil), err
	}
	d.Duration = time.Since(start)
	return d, nil
}

func (r *Remote) decide(ctx context.Context, req *pdp.Request) (*pdp.Decision, error) {
	if r.closed.Load() {
		return nil, ErrClosed
	}
	if req == nil {
		return nil, fmt.Errorf("%w: nil request", pdp.ErrBadRequest)
	}
	in, err := toEvaluateRequest(req, r.cfg.subjectType)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok && r.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.cfg.timeout)
		defer cancel()
	}
	resp, err := r.client.Evaluate(ctx, connect.NewRequest(in))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRemote, err)
	}
	return fromDecisionResult(resp.Msg.GetResult())
}

// Close releases the client's idle connections. It is idempotent; later
// decisions fail closed.
func (r *Remote) Close() error {
	if r.closed.CompareAndSwap(false, true) {
		r.transport.CloseIdleConnections()
	}
	return nil
}

// attrGroup is one category's attributes by id, in request order.
type attrGroup struct {
	ids  []string
	vals map[string][]pdp.Value
}

func (g *attrGroup) take(id string) ([]pdp.Value, bool) {
	v, ok := g.vals[id]
	delete(g.vals, id)
	return v, ok
}

// toEvaluateRequest maps attributes to the AuthZEN shape (see Remote).
func toEvaluateRequest(req *pdp.Request, subjectType string) (*verdictv1.EvaluateRequest, error) {
	groups := map[string]*attrGroup{}
	for _, a := range req.Attributes {
		switch a.Category {
		case pdp.CategorySubject, pdp.CategoryAction, pdp.CategoryResource, pdp.CategoryEnvironment:
		default:
			return nil, fmt.Errorf("%w: category %s has no AuthZEN equivalent", ErrNotRepresentable, a.Category)
		}
		if a.Issuer != "" {
			return nil, fmt.Errorf("%w: attribute %s has an issuer", ErrNotRepresentable, a.ID)
		}
		g := groups[a.Category]
		if g == nil {
			g = &attrGroup{vals: map[string][]pdp.Value{}}
			groups[a.Category] = g
		}
		if _, seen := g.vals[a.ID]; !seen {
			g.ids = append(g.ids, a.ID)
		}
		g.vals[a.ID] = append(g.vals[a.ID], a.Values...)
	}
	group := func(cat string) *attrGroup {
		if g := groups[cat]; g != nil {
			return g
		}
		return &attrGroup{vals: map[string][]pdp.Value{}}
	}
	subj, act, res := group(pdp.CategorySubject), group(pdp.CategoryAction), group(pdp.CategoryResource)

	sType, err := member(subj, "subject", "type", "")
	if err != nil {
		return nil, err
	}
	if sType == "" {
		sType = subjectType
	}
	sID, err := member(subj, "subject", "id", token.SubjectIDAttribute)
	if err != nil {
		return nil, err
	}
	aName, err := member(act, "action", "name", actionIDAttribute)
	if err != nil {
		return nil, err
	}
	rType, err := member(res, "resource", "type", "")
	if err != nil {
		return nil, err
	}
	rID, err := member(res, "resource", "id", resourceIDAttribute)
	if err != nil {
		return nil, err
	}
	for _, m := range []struct{ name, v string }{
		{"subject type (see WithSubjectType)", sType}, {"subject id", sID},
		{"action name", aName}, {"resource type", rType}, {"resource id", rID},
	} {
		if m.v == "" {
			return nil, fmt.Errorf("%w: the remote PDP requires a %s", ErrNotRepresentable, m.name)
		}
	}
	return &verdictv1.EvaluateRequest{
		Subject:  &verdictv1.Subject{Type: sType, Id: sID, Properties: properties(subj)},
		Action:   &verdictv1.Action{Name: aName, Properties: properties(act)},
		Resource: &verdictv1.Resource{Type: rType, Id: rID, Properties: properties(res)},
		Context:  properties(group(pdp.CategoryEnvironment)),
	}, nil
}

// member takes the entity member id (one string value) out of g. The PDP
// also exposes it as alias: an alias attribute with the same single value is
// dropped (the PDP recreates it), and stands in for a missing member.
func member(g *attrGroup, entity, id, alias string) (string, error) {
	single := func(name string, vs []pdp.Value) (string, error) {
		if len(vs) != 1 || vs[0].Type != "string" {
			return "", fmt.Errorf("%w: %s attribute %s must be one string to be the AuthZEN %s.%s", ErrNotRepresentable, entity, name, entity, id)
		}
		return vs[0].Lexical, nil
	}
	vs, ok := g.take(id)
	if !ok {
		if alias == "" {
			return "", nil
		}
		avs, ok := g.take(alias)
		if !ok {
			return "", nil
		}
		return single(alias, avs)
	}
	v, err := single(id, vs)
	if err != nil {
		return "", err
	}
	if alias != "" {
		if avs, ok := g.take(alias); ok {
			if av, err := single(alias, avs); err != nil || av != v {
				return "", fmt.Errorf("%w: %s attribute %s differs from its %s, which the remote PDP also exposes as %s", ErrNotRepresentable, entity, alias, id, alias)
			}
		}
	}
	return v, nil
}

// properties turns the attributes left in g into a Struct; nil when none.
func properties(g *attrGroup) *structpb.Struct {
	if len(g.vals) == 0 {
		return nil
	}
	s := &structpb.Struct{Fields: make(map[string]*structpb.Value, len(g.vals))}
	for _, id := range g.ids {
		vs, ok := g.vals[id]
		if !ok {
			continue
		}
		if len(vs) == 1 {
			s.Fields[id] = structValue(vs[0])
			continue
		}
		list := make([]*structpb.Value, len(vs))
		for i, v := range vs {
			list[i] = structValue(v)
		}
		s.Fields[id] = structpb.NewListValue(&structpb.ListValue{Values: list})
	}
	return s
}

// maxExactInteger is the largest integer a JSON (double) number carries
// exactly; the PDP types integral numbers within it as xs:integer.
const maxExactInteger = 1 << 53

// structValue encodes one value. Booleans, integers the wire carries
// exactly and finite doubles travel as JSON; everything else as its lexical
// form, which the engine converts to the type the policy designates.
func structValue(v pdp.Value) *structpb.Value {
	switch v.Type {
	case "boolean":
		if b, err := strconv.ParseBool(v.Lexical); err == nil {
			return structpb.NewBoolValue(b)
		}
	case "integer":
		if n, err := strconv.ParseInt(v.Lexical, 10, 64); err == nil && n <= maxExactInteger && n >= -maxExactInteger {
			return structpb.NewNumberValue(float64(n))
		}
	case "double":
		if f, err := strconv.ParseFloat(v.Lexical, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return structpb.NewNumberValue(f)
		}
	}
	return structpb.NewStringValue(v.Lexical)
}

var remoteEffects = map[verdictv1.Decision]pdp.Effect{
	verdictv1.Decision_DECISION_PERMIT:         pdp.EffectPermit,
	verdictv1.Decision_DECISION_DENY:           pdp.EffectDeny,
	verdictv1.Decision_DECISION_NOT_APPLICABLE: pdp.EffectNotApplicable,
	verdictv1.Decision_DECISION_INDETERMINATE:  pdp.EffectIndeterminate,
}

// fromDecisionResult maps the PDP's answer back, refusing one whose fields
// disagree: a client that cannot tell what was decided must not permit.
func fromDecisionResult(res *verdictv1.DecisionResult) (*pdp.Decision, error) {
	if res == nil {
		return nil, fmt.Errorf("%w: response without a result", ErrRemote)
	}
	effect, ok := remoteEffects[res.GetDecision()]
	if !ok {
		return nil, fmt.Errorf("%w: unknown decision %v", ErrRemote, res.GetDecision())
	}
	if res.GetAllowed() != (effect == pdp.EffectPermit) || (res.GetXacmlDecision() != "" && res.GetXacmlDecision() != string(effect)) {
		return nil, fmt.Errorf("%w: inconsistent result (decision %v, allowed %t, xacml %q)", ErrRemote, res.GetDecision(), res.GetAllowed(), res.GetXacmlDecision())
	}
	if res.GetBundleRevision() < 0 {
		return nil, fmt.Errorf("%w: negative bundle revision %d", ErrRemote, res.GetBundleRevision())
	}
	d := &pdp.Decision{
		ID:       res.GetDecisionId(),
		Effect:   effect,
		Status:   pdp.Status{Code: res.GetStatus().GetCode(), Message: res.GetStatus().GetMessage()},
		Revision: uint64(res.GetBundleRevision()),
	}
	if d.Status.Code == "" {
		d.Status.Code = pdp.StatusOK
	}
	for _, o := range res.GetObligations() {
		d.Obligations = append(d.Obligations, pdp.Obligation{ID: o.GetId(), Assignments: assignments(o.GetAttributeAssignments())})
	}
	for _, a := range res.GetAdvice() {
		d.Advice = append(d.Advice, pdp.Obligation{ID: a.GetId(), Assignments: assignments(a.GetAttributeAssignments())})
	}
	for _, p := range res.GetPolicyIdentifiers() {
		kind := "Policy"
		if p.GetKind() == verdictv1.PolicyKind_POLICY_KIND_POLICY_SET {
			kind = "PolicySet"
		}
		d.PolicyIDs = append(d.PolicyIDs, pdp.PolicyID{Kind: kind, ID: p.GetId(), Version: p.GetVersion()})
	}
	return d, nil
}

func assignments(in []*verdictv1.AttributeAssignment) []pdp.Assignment {
	out := make([]pdp.Assignment, 0, len(in))
	for _, a := range in {
		typ, ok := xacmlfn.ShortType(a.GetDataType())
		if !ok {
			typ = a.GetDataType()
		}
		out = append(out, pdp.Assignment{AttributeID: a.GetAttributeId(), Category: a.GetCategory(), Issuer: a.GetIssuer(), Type: typ, Value: a.GetValue()})
	}
	return out
}
