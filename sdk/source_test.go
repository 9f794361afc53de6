package sdk_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/verdict-authz/verdict/pdp"
)

// testSource is a BundleSource under the test's control: Start waits for
// release (when set), then activates its policies; Swap activates more
// later, as a bundle stream delivers new revisions.
type testSource struct {
	policies []*pdp.Policy
	release  chan struct{}

	engine    atomic.Pointer[pdp.Engine]
	starts    atomic.Int32
	closes    atomic.Int32
	returned  chan error
	closeOnce sync.Once
	closed    chan struct{}
}

var errSourceClosed = errors.New("test source closed")

func newTestSource(release chan struct{}, policies ...*pdp.Policy) *testSource {
	return &testSource{policies: policies, release: release, closed: make(chan struct{}), returned: make(chan error, 1)}
}

func (s *testSource) Start(ctx context.Context, e *pdp.Engine) (err error) {
	defer func() { s.returned <- err }()
	s.starts.Add(1)
	s.engine.Store(e)
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			return errSourceClosed
		}
	}
	for _, p := range s.policies {
		if err := e.Activate(ctx, p); err != nil {
			return err
		}
	}
	return nil
}

func (s *testSource) Close() error {
	s.closes.Add(1)
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}

// swap activates p as a newly delivered revision.
func (s *testSource) swap(ctx context.Context, p *pdp.Policy) error {
	return s.engine.Load().Activate(ctx, p)
}
