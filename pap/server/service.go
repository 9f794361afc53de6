package server

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pap/store"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// maxCreateAttempts bounds retries of a push racing other pushes to the
// same service.
const maxCreateAttempts = 10

// revInfo is what a Revision message needs beyond a store.Summary,
// computed once per revision (revisions are immutable).
type revInfo struct {
	digest   string // bundle content digest, as PDPs report it
	rootID   string
	rootKind verdictv1.PolicyKind
	sources  int32
}

type infoCache struct {
	mu sync.Mutex
	m  map[string]revInfo
}

func infoKey(service string, number int64) string {
	return service + "/" + strconv.FormatInt(number, 10)
}

// info returns the revision's info, from the cache or by loading it.
func (s *Server) info(ctx context.Context, sum store.Summary) (revInfo, error) {
	key := infoKey(sum.Service, sum.Number)
	s.infos.mu.Lock()
	in, ok := s.infos.m[key]
	s.infos.mu.Unlock()
	if ok {
		return in, nil
	}
	rev, err := s.store.Get(ctx, sum.Service, sum.Number)
	if err != nil {
		return revInfo{}, err
	}
	return s.remember(rev, rootKindOf(rev.Content))
}

// remember computes and caches a revision's info.
func (s *Server) remember(rev store.Revision, kind verdictv1.PolicyKind) (revInfo, error) {
	b, err := publish.Build(rev)
	if err != nil {
		return revInfo{}, err
	}
	in := revInfo{digest: b.Digest(), rootID: rev.Content.RootPolicyID, rootKind: kind, sources: int32(len(rev.Content.Sources))}
	s.infos.mu.Lock()
	s.infos.m[infoKey(rev.Service, rev.Number)] = in
	s.infos.mu.Unlock()
	return in, nil
}

func protoRevision(sum store.Summary, in revInfo) *verdictv1.Revision {
	return &verdictv1.Revision{
		Service:              sum.Service,
		Number:               sum.Number,
		RootPolicyId:         in.rootID,
		RootPolicyKind:       in.rootKind,
		Digest:               in.digest,
		Author:               sum.Author,
		Message:              sum.Message,
		ParentRevision:       sum.Parent,
		CreateTime:           timestamppb.New(sum.CreatedAt),
		RestoredFromRevision: sum.RollbackOf,
		SourceCount:          in.sources,
	}
}

func checkService(name string) error {
	if err := store.ValidateService(name); err != nil {
		return rpcErrorf(codes.InvalidArgument, "%v", err)
	}
	return nil
}

func (s *Server) push(ctx context.Context, req *verdictv1.PushRequest) (*verdictv1.PushResponse, error) {
	if err := checkService(req.GetService()); err != nil {
		return nil, err
	}
	prep, diags := prepare(ctx, req.GetRootPolicyId(), req.GetSources())
	if diags != nil {
		s.metrics.changes.WithLabelValues("push", "refused").Inc()
		s.log.Info("push refused", "service", req.GetService(), "author", author(ctx), "problems", len(diags))
		return nil, refused(diags)
	}
	rev, err := s.create(ctx, store.Draft{
		Service: req.GetService(),
		Content: prep.content,
		Author:  author(ctx),
		Message: req.GetMessage(),
	}, req.GetExpectedParentRevision())
	if err != nil {
		s.metrics.changes.WithLabelValues("push", "failed").Inc()
		return nil, err
	}
	in, err := s.remember(rev, prep.rootKind)
	if err != nil {
		return nil, err
	}
	if err := s.publish(ctx, "push", rev); err != nil {
		return nil, err
	}
	return &verdictv1.PushResponse{Revision: protoRevision(rev.Summary, in)}, nil
}

// create stores d on top of the service's head, retrying when another
// push moved the head, unless the caller named the parent it expects.
func (s *Server) create(ctx context.Context, d store.Draft, expected int64) (store.Revision, error) {
	for attempt := 1; ; attempt++ {
		head, err := s.head(ctx, d.Service)
		if err != nil {
			return store.Revision{}, err
		}
		if expected != 0 && head != expected {
			return store.Revision{}, rpcErrorf(codes.FailedPrecondition, "service %s is at revision %d, not the expected %d", d.Service, head, expected)
		}
		d.Parent = head
		rev, err := s.store.Create(ctx, d)
		if errors.Is(err, store.ErrConflict) && expected == 0 && attempt < maxCreateAttempts {
			continue
		}
		if errors.Is(err, store.ErrConflict) {
			return store.Revision{}, rpcErrorf(codes.FailedPrecondition, "%v", err)
		}
		return rev, err
	}
}

// head returns the service's latest revision number, 0 when it has none.
func (s *Server) head(ctx context.Context, service string) (int64, error) {
	page, err := s.store.List(ctx, service, store.PageOptions{Limit: 1})
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if len(page.Items) == 0 {
		return 0, nil
	}
	return page.Items[0].Number, nil
}

// publish publishes a stored revision, retrying within the publish
// timeout. A revision that cannot be published in time stays stored and
// the reconciler publishes it once NATS accepts it; the caller learns it
// with UNAVAILABLE.
func (s *Server) publish(ctx context.Context, action string, rev store.Revision) error {
	pctx, cancel := context.WithTimeout(ctx, s.cfg.publishTimeout)
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		_, err := s.pub.Publish(pctx, rev)
		if err == nil {
			s.metrics.changes.WithLabelValues(action, "stored").Inc()
			s.log.Info("revision stored and published", "action", action, "service", rev.Service, "revision", rev.Number, "author", rev.Author)
			return nil
		}
		s.log.Warn("publishing failed; retrying", "service", rev.Service, "revision", rev.Number, "err", err)
		select {
		case <-pctx.Done():
			s.metrics.changes.WithLabelValues(action, "unpublished").Inc()
			s.kickReconcile()
			return rpcErrorf(codes.Unavailable,
				"revision %d of %s is stored but not yet published (%v); the PAP keeps publishing it until NATS accepts it", rev.Number, rev.Service, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

func (s *Server) validate(ctx context.Context, req *verdictv1.ValidateRequest) (*verdictv1.ValidateResponse, error) {
	if err := checkService(req.GetService()); err != nil {
		return nil, err
	}
	prep, diags := prepare(ctx, req.GetRootPolicyId(), req.GetSources())
	if diags != nil {
		return &verdictv1.ValidateResponse{Valid: false, Diagnostics: diags}, nil
	}
	return &verdictv1.ValidateResponse{Valid: true, RootPolicyId: prep.rootID, RootPolicyKind: prep.rootKind, TestsPassed: int32(prep.testsPassed)}, nil
}

func (s *Server) list(ctx context.Context, req *verdictv1.ListRequest) (*verdictv1.ListResponse, error) {
	if err := checkService(req.GetService()); err != nil {
		return nil, err
	}
	var before int64
	if tok := req.GetPageToken(); tok != "" {
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil || n <= 0 {
			return nil, rpcErrorf(codes.InvalidArgument, "page token %q is not one this server issued", tok)
		}
		before = n
	}
	size := int(req.GetPageSize())
	if size < 0 {
		return nil, rpcErrorf(codes.InvalidArgument, "negative page size %d", size)
	}
	size = min(size, store.MaxPageSize)
	page, err := s.store.List(ctx, req.GetService(), store.PageOptions{Limit: size, Before: before})
	if err != nil {
		return nil, err
	}
	resp := &verdictv1.ListResponse{}
	for _, sum := range page.Items {
		in, err := s.info(ctx, sum)
		if err != nil {
			return nil, err
		}
		resp.Revisions = append(resp.Revisions, protoRevision(sum, in))
	}
	if page.Next != 0 {
		resp.NextPageToken = strconv.FormatInt(page.Next, 10)
	}
	return resp, nil
}

// revision loads a revision, the latest when number is 0.
func (s *Server) revision(ctx context.Context, service string, number int64) (store.Revision, error) {
	if err := checkService(service); err != nil {
		return store.Revision{}, err
	}
	switch {
	case number == 0:
		return s.store.Latest(ctx, service)
	case number < 0:
		return store.Revision{}, rpcErrorf(codes.InvalidArgument, "revision %d is negative", number)
	}
	return s.store.Get(ctx, service, number)
}

func (s *Server) get(ctx context.Context, req *verdictv1.PolicyAdminServiceGetRequest) (*verdictv1.PolicyAdminServiceGetResponse, error) {
	rev, err := s.revision(ctx, req.GetService(), req.GetRevision())
	if err != nil {
		return nil, err
	}
	in, err := s.info(ctx, rev.Summary)
	if err != nil {
		return nil, err
	}
	resp := &verdictv1.PolicyAdminServiceGetResponse{Revision: protoRevision(rev.Summary, in)}
	for _, src := range rev.Content.Sources {
		resp.Sources = append(resp.Sources, &verdictv1.PolicySource{Path: src.Name, Content: src.Content})
	}
	if req.GetIncludeCompiled() {
		for _, p := range slices.Sorted(maps.Keys(rev.Content.Rego)) {
			resp.CompiledModules = append(resp.CompiledModules, &verdictv1.RegoModule{Path: p, Content: rev.Content.Rego[p]})
		}
	}
	return resp, nil
}

func (s *Server) diff(ctx context.Context, req *verdictv1.DiffRequest) (*verdictv1.DiffResponse, error) {
	from, err := s.revision(ctx, req.GetService(), req.GetFromRevision())
	if err != nil {
		return nil, err
	}
	fromInfo, err := s.info(ctx, from.Summary)
	if err != nil {
		return nil, err
	}
	resp := &verdictv1.DiffResponse{From: protoRevision(from.Summary, fromInfo)}
	var toSources []store.Source
	var toRoot string
	if len(req.GetToSources()) > 0 {
		for _, src := range req.GetToSources() {
			if msg := checkSourcePath(src.GetPath()); msg != "" {
				return nil, rpcErrorf(codes.InvalidArgument, "%s: %s", src.GetPath(), msg)
			}
			format, _ := classify(src.GetPath(), src.GetContent())
			toSources = append(toSources, store.Source{Name: src.GetPath(), Format: format, Content: src.GetContent()})
		}
		if prep, diags := prepare(ctx, "", req.GetToSources()); diags == nil {
			toRoot = prep.rootID
		}
	} else {
		to, err := s.revision(ctx, req.GetService(), req.GetToRevision())
		if err != nil {
			return nil, err
		}
		toInfo, err := s.info(ctx, to.Summary)
		if err != nil {
			return nil, err
		}
		resp.To = protoRevision(to.Summary, toInfo)
		toSources, toRoot = to.Content.Sources, to.Content.RootPolicyID
	}
	resp.Files = fileDiffs(from.Content.Sources, toSources)
	resp.Policies = policyChanges(policiesOf(from.Content.Sources), policiesOf(toSources))
	resp.RootChanged = toRoot != "" && toRoot != from.Content.RootPolicyID
	return resp, nil
}

// fileDiffs compares two source trees file by file, in path order.
func fileDiffs(from, to []store.Source) []*verdictv1.FileDiff {
	a := make(map[string][]byte, len(from))
	for _, s := range from {
		a[s.Name] = nonNil(s.Content)
	}
	b := make(map[string][]byte, len(to))
	for _, s := range to {
		b[s.Name] = nonNil(s.Content)
	}
	paths := slices.Sorted(maps.Keys(a))
	for p := range b {
		if _, ok := a[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []*verdictv1.FileDiff
	for _, p := range paths {
		x, inA := a[p]
		y, inB := b[p]
		var change verdictv1.ChangeType
		switch {
		case !inA:
			change = verdictv1.ChangeType_CHANGE_TYPE_ADDED
		case !inB:
			change = verdictv1.ChangeType_CHANGE_TYPE_REMOVED
		case string(x) != string(y):
			change = verdictv1.ChangeType_CHANGE_TYPE_MODIFIED
		default:
			continue
		}
		out = append(out, &verdictv1.FileDiff{Path: p, Change: change, UnifiedDiff: unifiedDiff(p, x, y)})
	}
	return out
}

// nonNil tells an empty file (present) from an absent one in unifiedDiff.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// policyChanges compares the policies of two sides by identity.
func policyChanges(from, to map[policyKey]string) []*verdictv1.PolicyChange {
	keys := slices.Collect(maps.Keys(from))
	for k := range to {
		if _, ok := from[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b policyKey) int {
		if a.id != b.id {
			return strings.Compare(a.id, b.id)
		}
		if a.kind != b.kind {
			return int(a.kind) - int(b.kind)
		}
		return strings.Compare(a.version, b.version)
	})
	var out []*verdictv1.PolicyChange
	for _, k := range keys {
		x, inFrom := from[k]
		y, inTo := to[k]
		var change verdictv1.ChangeType
		switch {
		case !inFrom:
			change = verdictv1.ChangeType_CHANGE_TYPE_ADDED
		case !inTo:
			change = verdictv1.ChangeType_CHANGE_TYPE_REMOVED
		case x != y:
			change = verdictv1.ChangeType_CHANGE_TYPE_MODIFIED
		default:
			continue
		}
		out = append(out, &verdictv1.PolicyChange{
			Policy: &verdictv1.PolicyIdentifier{Kind: k.kind, Id: k.id, Version: k.version},
			Change: change,
		})
	}
	return out
}

func (s *Server) rollback(ctx context.Context, req *verdictv1.RollbackRequest) (*verdictv1.RollbackResponse, error) {
	if req.GetToRevision() <= 0 {
		return nil, rpcErrorf(codes.InvalidArgument, "to_revision must name an earlier revision")
	}
	old, err := s.revision(ctx, req.GetService(), req.GetToRevision())
	if err != nil {
		return nil, err
	}
	msg := req.GetMessage()
	if msg == "" {
		msg = fmt.Sprintf("rollback to revision %d", old.Number)
	}
	rev, err := s.create(ctx, store.Draft{
		Service:    old.Service,
		RollbackOf: old.Number,
		Content:    old.Content,
		Author:     author(ctx),
		Message:    msg,
	}, req.GetExpectedParentRevision())
	if err != nil {
		s.metrics.changes.WithLabelValues("rollback", "failed").Inc()
		return nil, err
	}
	oldInfo, err := s.info(ctx, old.Summary)
	if err != nil {
		return nil, err
	}
	in, err := s.remember(rev, oldInfo.rootKind)
	if err != nil {
		return nil, err
	}
	if err := s.publish(ctx, "rollback", rev); err != nil {
		return nil, err
	}
	return &verdictv1.RollbackResponse{Revision: protoRevision(rev.Summary, in)}, nil
}

// target resolves the revision a rollout is about (0: the latest).
func (s *Server) target(ctx context.Context, service string, number int64) (store.Summary, revInfo, error) {
	if err := checkService(service); err != nil {
		return store.Summary{}, revInfo{}, err
	}
	if number < 0 {
		return store.Summary{}, revInfo{}, rpcErrorf(codes.InvalidArgument, "revision %d is negative", number)
	}
	var sum store.Summary
	if number == 0 {
		page, err := s.store.List(ctx, service, store.PageOptions{Limit: 1})
		if err != nil {
			return store.Summary{}, revInfo{}, err
		}
		if len(page.Items) == 0 {
			return store.Summary{}, revInfo{}, rpcErrorf(codes.NotFound, "service %s has no revision", service)
		}
		sum = page.Items[0]
	} else {
		rev, err := s.store.Get(ctx, service, number)
		if err != nil {
			return store.Summary{}, revInfo{}, err
		}
		sum = rev.Summary
	}
	in, err := s.info(ctx, sum)
	return sum, in, err
}

// rollout computes the state of a revision across the live PDPs.
func (s *Server) rollout(sum store.Summary, in revInfo, instances bool) *verdictv1.Rollout {
	live := s.cfg.fleet.Live(sum.Service)
	r := &verdictv1.Rollout{
		Service:     sum.Service,
		Revision:    sum.Number,
		Digest:      in.digest,
		LiveCount:   int32(len(live)),
		ObserveTime: timestamppb.Now(),
	}
	for _, p := range live {
		pi := &verdictv1.PdpInstance{
			InstanceId:        p.Instance,
			ActiveRevision:    int64(p.Revision),
			ActiveDigest:      p.Digest,
			LastError:         p.LastError,
			LastHeartbeatTime: timestamppb.New(p.LastSeen),
		}
		if int64(p.Revision) >= sum.Number {
			r.ActiveCount++
		} else {
			r.Stragglers = append(r.Stragglers, pi)
		}
		if instances {
			r.Instances = append(r.Instances, pi)
		}
	}
	r.Complete = r.ActiveCount == r.LiveCount
	return r
}

func (s *Server) rolloutStatus(ctx context.Context, req *verdictv1.RolloutStatusRequest) (*verdictv1.RolloutStatusResponse, error) {
	sum, in, err := s.target(ctx, req.GetService(), req.GetRevision())
	if err != nil {
		return nil, err
	}
	return &verdictv1.RolloutStatusResponse{Rollout: s.rollout(sum, in, req.GetIncludeInstances())}, nil
}

// watchTick bounds how long a watch goes without re-evaluating, so that a
// PDP that stops sending heartbeats leaves the view in time.
const watchTick = time.Second

func (s *Server) watchRollout(ctx context.Context, req *verdictv1.WatchRolloutRequest, send func(*verdictv1.WatchRolloutResponse) error) error {
	sum, in, err := s.target(ctx, req.GetService(), req.GetRevision())
	if err != nil {
		return err
	}
	t := time.NewTicker(watchTick)
	defer t.Stop()
	var last string
	for {
		changed := s.cfg.fleet.Changed(sum.Service)
		r := s.rollout(sum, in, req.GetIncludeInstances())
		if key := rolloutKey(r); key != last || req.GetFollow() && last == "" {
			last = key
			if err := send(&verdictv1.WatchRolloutResponse{Rollout: r}); err != nil {
				return err
			}
		}
		if r.Complete && !req.GetFollow() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-t.C:
		}
	}
}

// rolloutKey summarises what a watcher cares about, to send updates only
// when it changes.
func rolloutKey(r *verdictv1.Rollout) string {
	key := fmt.Sprintf("%d/%d", r.GetActiveCount(), r.GetLiveCount())
	for _, p := range r.GetStragglers() {
		key += fmt.Sprintf(";%s@%d:%s", p.GetInstanceId(), p.GetActiveRevision(), p.GetLastError())
	}
	return key
}
