package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/bundle"
)

// BundleSource keeps a PDP's engine supplied with policies: the NATS
// bundle stream in production (pdp/bundlesource), anything else in tests.
//
// Start begins delivery into engine and returns once the source has
// activated its first policy (engine.Activate), or with an error; it then
// keeps activating new revisions, as go-spiffe's sources keep rotating
// SVIDs. Its ctx lives as long as the PDP: it is cancelled by PDP.Close, or
// when New stops waiting for the first policy. Close stops the source and
// releases what it holds, and must make a blocked Start return; the PDP
// calls it exactly once, even when Start failed.
type BundleSource interface {
	Start(ctx context.Context, engine *pdp.Engine) error
	Close() error
}

// NewBundleSource adapts a constructor that blocks until the first policy
// is active and returns something to close — the shape of
// bundlesource.New — to a BundleSource:
//
//	sdk.WithBundleSource(sdk.NewBundleSource(func(ctx context.Context, e *pdp.Engine) (*bundlesource.Source, error) {
//		return bundlesource.New(ctx, nc, e, opts...)
//	}))
//
// The constructor is called once, by Start.
func NewBundleSource[C io.Closer](start func(ctx context.Context, engine *pdp.Engine) (C, error)) BundleSource {
	return &funcSource[C]{start: start}
}

type funcSource[C io.Closer] struct {
	start func(context.Context, *pdp.Engine) (C, error)

	mu      sync.Mutex
	started bool
	closed  bool
	closer  io.Closer
}

// errSourceStarted refuses a second Start: the constructor runs once.
var errSourceStarted = errors.New("sdk: bundle source already started")

func (s *funcSource[C]) Start(ctx context.Context, engine *pdp.Engine) error {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		return errSourceStarted
	}
	s.started = true
	s.mu.Unlock()
	c, err := s.start(ctx, engine)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		// Close ran while the constructor blocked: nobody else will close it.
		return errors.Join(ErrClosed, c.Close())
	}
	s.closer = c
	return nil
}

func (s *funcSource[C]) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

// activateLastKnownGood activates the service's bundle stored in dir.
func activateLastKnownGood(ctx context.Context, engine *pdp.Engine, dir, service string, trust *bundle.TrustStore) (*pdp.Policy, error) {
	b, err := bundle.ReadFile(dir, service, trust)
	if err != nil {
		return nil, err
	}
	p, err := pdp.PolicyFromBundle(b)
	if err != nil {
		return nil, err
	}
	if err := engine.Activate(ctx, p); err != nil {
		return nil, fmt.Errorf("activate last-known-good revision %d: %w", p.Revision, err)
	}
	return p, nil
}
