package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pdp"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// PolicySource returns the compiled policy of a service's revision, what
// Replay evaluates against. cmd wires it from the PAP's store and
// compiler; audit does not compile policies itself.
type PolicySource interface {
	Policy(ctx context.Context, service string, revision int64) (*pdp.Policy, error)
}

// ChangeSource is the PAP's change log (pap/store.Store satisfies it).
type ChangeSource interface {
	Changes(ctx context.Context, q store.ChangeQuery) (store.Page[store.Change], error)
}

// CheckpointSource returns the newest checkpoint of every service, from
// where the collector keeps them (a CheckpointFile).
type CheckpointSource interface {
	Latest() (map[string]Checkpoint, error)
}

// ErrUnavailable: the service was built without what a method needs
// (a policy source for Replay, a change source for Changes).
var ErrUnavailable = errors.New("audit: not configured")

// Service implements verdict.v1.AuditService over a Store, independent of
// the transport (grpc.go and connect.go adapt it).
type Service struct {
	st       Store
	keys     Keys
	cps      CheckpointSource
	policies PolicySource
	changes  ChangeSource
	differ   Differ
}

// ServiceOption configures NewService.
type ServiceOption interface{ apply(*Service) }

type serviceOptionFunc func(*Service)

func (f serviceOptionFunc) apply(s *Service) { f(s) }

// WithDiffer makes Changes show what each revision changed relative to
// its parent as the PAP's Diff computes it (file diffs and policy
// changes). Without it, Changes lists the changed files from the stored
// revisions, without their diffs.
func WithDiffer(d Differ) ServiceOption {
	return serviceOptionFunc(func(s *Service) { s.differ = d })
}

// NewService answers queries from st and verifies chains with keys
// against the checkpoints of cps; policies and changes may be nil, which
// makes Replay and Changes fail with ErrUnavailable.
func NewService(st Store, keys Keys, cps CheckpointSource, policies PolicySource, changes ChangeSource, opts ...ServiceOption) *Service {
	s := &Service{st: st, keys: keys, cps: cps, policies: policies, changes: changes}
	for _, o := range opts {
		o.apply(s)
	}
	return s
}

// Query implements AuditService.Query.
func (s *Service) Query(ctx context.Context, in *verdictv1.QueryRequest) (*verdictv1.QueryResponse, error) {
	f := Filter{
		Service: in.GetService(), SubjectID: in.GetSubjectId(), ResourceType: in.GetResourceType(),
		ResourceID: in.GetResourceId(), Action: in.GetActionName(), Decision: effectOf(in.GetDecision()),
		Revision: in.GetRevision(), Limit: int(in.GetPageSize()), PageToken: in.GetPageToken(),
	}
	if in.GetStartTime() != nil {
		f.Since = in.GetStartTime().AsTime()
	}
	if in.GetEndTime() != nil {
		f.Until = in.GetEndTime().AsTime()
	}
	p, err := s.st.Query(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &verdictv1.QueryResponse{NextPageToken: p.Next}
	for _, e := range p.Entries {
		r, err := toProtoRecord(e)
		if err != nil {
			return nil, err
		}
		out.Records = append(out.Records, r)
	}
	return out, nil
}

// Get implements AuditService.Get.
func (s *Service) Get(ctx context.Context, in *verdictv1.AuditServiceGetRequest) (*verdictv1.AuditServiceGetResponse, error) {
	e, err := s.st.Get(ctx, in.GetDecisionId())
	if err != nil {
		return nil, err
	}
	r, err := toProtoRecord(e)
	if err != nil {
		return nil, err
	}
	return &verdictv1.AuditServiceGetResponse{Record: r}, nil
}

// Verify implements AuditService.Verify: every service in the store or
// in the checkpoints (a service whose records were all deleted still has
// checkpoints), against the server's checkpoints and the caller's.
func (s *Service) Verify(ctx context.Context, in *verdictv1.VerifyRequest) (*verdictv1.VerifyResponse, error) {
	var cps []Checkpoint
	services, err := s.st.Services(ctx)
	if err != nil {
		return nil, err
	}
	if s.cps != nil {
		latest, err := s.cps.Latest()
		if err != nil {
			return nil, err
		}
		for svc, c := range latest {
			cps = append(cps, c)
			services = append(services, svc)
		}
	}
	for _, c := range in.GetTrustedCheckpoints() {
		cps = append(cps, fromProtoCheckpoint(c))
		services = append(services, c.GetService())
	}
	slices.Sort(services)
	services = slices.Compact(services)
	out := &verdictv1.VerifyResponse{Intact: true}
	for _, svc := range services {
		if in.GetService() != "" && svc != in.GetService() {
			continue
		}
		rep, err := Verify(ctx, s.st, s.keys, svc, cps...)
		if err != nil {
			return nil, err
		}
		out.Intact = out.Intact && rep.Intact
		out.Chains = append(out.Chains, toProtoReport(rep))
	}
	return out, nil
}

// Changes implements AuditService.Changes from the PAP's change log.
func (s *Service) Changes(ctx context.Context, in *verdictv1.ChangesRequest) (*verdictv1.ChangesResponse, error) {
	if s.changes == nil {
		return nil, fmt.Errorf("%w: no policy store for the change log", ErrUnavailable)
	}
	q := store.ChangeQuery{Service: in.GetService(), Author: in.GetAuthor(), Page: store.PageOptions{Limit: int(in.GetPageSize())}}
	if in.GetStartTime() != nil {
		q.Since = in.GetStartTime().AsTime()
	}
	if in.GetEndTime() != nil {
		q.Until = in.GetEndTime().AsTime()
	}
	if tok := in.GetPageToken(); tok != "" {
		if _, err := fmt.Sscanf(tok, "%d", &q.Page.Before); err != nil {
			return nil, fmt.Errorf("%w: page token", ErrInvalid)
		}
	}
	p, err := s.changes.Changes(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &verdictv1.ChangesResponse{}
	if p.Next != 0 {
		out.NextPageToken = fmt.Sprint(p.Next)
	}
	for _, c := range p.Items {
		kind := verdictv1.PolicyChangeKind_POLICY_CHANGE_KIND_PUSH
		if c.Action == store.ActionRollback {
			kind = verdictv1.PolicyChangeKind_POLICY_CHANGE_KIND_ROLLBACK
		}
		entry := &verdictv1.PolicyChangeEntry{Kind: kind, Revision: &verdictv1.Revision{
			Service: c.Service, Number: c.Number, Digest: c.Digest, Author: c.Author, Message: c.Message,
			ParentRevision: c.Parent, CreateTime: timestamppb.New(c.CreatedAt),
		}}
		if err := s.changeDiff(ctx, c, entry, in.GetIncludeDiffs()); err != nil {
			return nil, err
		}
		out.Changes = append(out.Changes, entry)
	}
	return out, nil
}
