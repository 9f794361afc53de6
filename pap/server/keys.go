package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pdp/bundle"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// Defaults of RotateSigningKey.
const (
	// DefaultKeyOverlap is how long PDPs keep trusting the old key.
	DefaultKeyOverlap = 24 * time.Hour
	// DefaultKeyPropagation bounds the wait for PDPs to learn the new key.
	DefaultKeyPropagation = 30 * time.Second
)

// KeyRotator is what the signing-key RPCs need from the Publisher;
// *publish.Publisher implements it. A Publisher without it makes those
// RPCs fail with Unimplemented.
type KeyRotator interface {
	SigningKeys(ctx context.Context) (publish.KeyStatus, error)
	Announce(ctx context.Context, next *bundle.SigningKey, overlap time.Duration) (*bundle.SignedKeySet, error)
	SwitchKey(next *bundle.SigningKey) error
}

// errNoRotator is returned when the Publisher cannot manage keys.
var errNoRotator = errors.New("server: this PAP's publisher does not manage signing keys")

func (s *Server) rotator() (KeyRotator, error) {
	r, ok := s.pub.(KeyRotator)
	if !ok {
		return nil, rpcErrorf(codes.Unimplemented, "%v", errNoRotator)
	}
	return r, nil
}

func (s *Server) listSigningKeys(ctx context.Context, _ *verdictv1.ListSigningKeysRequest) (*verdictv1.ListSigningKeysResponse, error) {
	r, err := s.rotator()
	if err != nil {
		return nil, err
	}
	st, err := r.SigningKeys(ctx)
	if err != nil {
		return nil, rpcErrorf(codes.Unavailable, "%v", err)
	}
	now := time.Now()
	resp := &verdictv1.ListSigningKeysResponse{SigningKeyId: st.Signing.KeyID()}
	var keys []bundle.PublicKey
	if st.KeySet != nil {
		set := st.KeySet.KeySet()
		resp.KeySetVersion = set.Version
		if !set.IssuedAt.IsZero() {
			resp.IssueTime = timestamppb.New(set.IssuedAt)
		}
		keys = set.Keys
	}
	if !slices.ContainsFunc(keys, func(k bundle.PublicKey) bool { return k.KeyID() == st.Signing.KeyID() }) {
		keys = append([]bundle.PublicKey{st.Signing}, keys...)
	}
	for _, k := range keys {
		resp.Keys = append(resp.Keys, signingKeyProto(k, st.Signing.KeyID(), now))
	}
	return resp, nil
}

func signingKeyProto(k bundle.PublicKey, signing string, now time.Time) *verdictv1.SigningKey {
	out := &verdictv1.SigningKey{
		KeyId:     k.KeyID(),
		PublicKey: k.Key,
		Signing:   k.KeyID() == signing,
		Retired:   !k.NotAfter.IsZero() && !now.Before(k.NotAfter),
	}
	if !k.NotBefore.IsZero() {
		out.NotBefore = timestamppb.New(k.NotBefore)
	}
	if !k.NotAfter.IsZero() {
		out.NotAfter = timestamppb.New(k.NotAfter)
	}
	return out
}

// rotateSigningKey announces a new key, waits for the live PDPs to report
// the key set announcing it, then signs with it. Rotations are serialised
// with publishes by the Publisher; two concurrent rotations are refused by
// the key set's version check.
func (s *Server) rotateSigningKey(ctx context.Context, req *verdictv1.RotateSigningKeyRequest) (*verdictv1.RotateSigningKeyResponse, error) {
	r, err := s.rotator()
	if err != nil {
		return nil, err
	}
	if req.GetOverlapSeconds() < 0 || req.GetPropagationTimeoutSeconds() < 0 {
		return nil, rpcErrorf(codes.InvalidArgument, "overlap and propagation timeout must not be negative")
	}
	overlap := DefaultKeyOverlap
	if v := req.GetOverlapSeconds(); v > 0 {
		overlap = time.Duration(v) * time.Second
	}
	propagation := DefaultKeyPropagation
	if v := req.GetPropagationTimeoutSeconds(); v > 0 {
		propagation = time.Duration(v) * time.Second
	}
	before, err := r.SigningKeys(ctx)
	if err != nil {
		return nil, rpcErrorf(codes.Unavailable, "%v", err)
	}
	next, err := bundle.GenerateSigningKey()
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	ks, err := r.Announce(ctx, next, overlap)
	if err != nil {
		if errors.Is(err, bundle.ErrStale) || errors.Is(err, publish.ErrRotationInProgress) {
			return nil, rpcErrorf(codes.Aborted, "%v", err)
		}
		return nil, rpcErrorf(codes.Unavailable, "%v", err)
	}
	version := ks.KeySet().Version
	s.log.Info("signing key announced; waiting for PDPs", "key_set_version", version, "next", next.KeyID(), "timeout", propagation)
	confirmed, live, stragglers := s.waitKeySet(ctx, version, propagation)
	if err := r.SwitchKey(next); err != nil {
		return nil, rpcErrorf(codes.Internal, "%v", err)
	}
	s.log.Info("signing key rotated", "old", before.Signing.KeyID(), "new", next.KeyID(), "confirmed", confirmed, "live", live, "stragglers", stragglers)
	resp := &verdictv1.RotateSigningKeyResponse{
		OldKeyId:       before.Signing.KeyID(),
		NewKeyId:       next.KeyID(),
		KeySetVersion:  version,
		ConfirmedCount: int32(confirmed),
		LiveCount:      int32(live),
		Stragglers:     stragglers,
	}
	for _, k := range ks.KeySet().Keys {
		if k.KeyID() == before.Signing.KeyID() && !k.NotAfter.IsZero() {
			resp.OldKeyNotAfter = timestamppb.New(k.NotAfter)
		}
	}
	return resp, nil
}

// waitKeySet waits until every live PDP of every service reports key set
// version or later, or within passes. It returns how many PDPs confirmed,
// how many were live, and the stragglers as service/instance.
func (s *Server) waitKeySet(ctx context.Context, version uint64, within time.Duration) (confirmed, live int, stragglers []string) {
	f := s.cfg.fleet
	if f == nil {
		return 0, 0, nil
	}
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		confirmed, live, stragglers = 0, 0, nil
		for _, inst := range f.allLive() {
			live++
			if inst.KeySetVersion >= version {
				confirmed++
			} else {
				stragglers = append(stragglers, inst.Service+"/"+inst.Instance)
			}
		}
		if len(stragglers) == 0 {
			return confirmed, live, nil
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return confirmed, live, stragglers
		case <-ctx.Done():
			return confirmed, live, stragglers
		}
	}
}

// allLive returns the live PDPs of every service.
func (f *Fleet) allLive() []Instance {
	f.mu.Lock()
	services := make([]string, 0, len(f.services))
	for svc := range f.services {
		services = append(services, svc)
	}
	f.mu.Unlock()
	slices.Sort(services)
	var out []Instance
	for _, svc := range services {
		out = append(out, f.Live(svc)...)
	}
	return out
}

// ListSigningKeys implements the Connect handler.
func (c connectService) ListSigningKeys(ctx context.Context, r *connect.Request[verdictv1.ListSigningKeysRequest]) (*connect.Response[verdictv1.ListSigningKeysResponse], error) {
	return unary(ctx, r, c.s.listSigningKeys)
}

// RotateSigningKey implements the Connect handler.
func (c connectService) RotateSigningKey(ctx context.Context, r *connect.Request[verdictv1.RotateSigningKeyRequest]) (*connect.Response[verdictv1.RotateSigningKeyResponse], error) {
	return unary(ctx, r, c.s.rotateSigningKey)
}

// ListSigningKeys implements the gRPC service.
func (g grpcService) ListSigningKeys(ctx context.Context, r *verdictv1.ListSigningKeysRequest) (*verdictv1.ListSigningKeysResponse, error) {
	resp, err := g.s.listSigningKeys(ctx, r)
	return resp, grpcError(err)
}

// RotateSigningKey implements the gRPC service.
func (g grpcService) RotateSigningKey(ctx context.Context, r *verdictv1.RotateSigningKeyRequest) (*verdictv1.RotateSigningKeyResponse, error) {
	resp, err := g.s.rotateSigningKey(ctx, r)
	return resp, grpcError(err)
}
