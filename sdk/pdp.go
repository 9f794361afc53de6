package sdk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/token"
)

// PDP is the embedded policy decision point of a service. It is safe for
// concurrent use; policies are swapped underneath it atomically (in-flight
// decisions finish on the policy they started with).
type PDP struct {
	engine *pdp.Engine
	cfg    config
	log    *decisionLog
	met    *metrics

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
	stop      context.CancelFunc
	// background tracks a bundle source started after a last-known-good
	// bundle was activated.
	background sync.WaitGroup
}

// New returns a PDP once it has an active policy, trying in order: the
// policy given with WithPolicy, the last-known-good bundle on disk
// (WithLastKnownGood), and the bundle source (WithBundleSource). When an
// earlier one activated a policy, the bundle source is started in the
// background and New does not wait for it; otherwise New blocks until the
// source activates its first policy or ctx ends. Cancelling ctx after New
// returns has no effect: Close stops the PDP.
func New(ctx context.Context, opts ...Option) (*PDP, error) {
	cfg := config{logger: slog.Default(), logBuffer: DefaultDecisionLogBuffer}
	for _, o := range opts {
		if o != nil {
			o.applyToPDP(&cfg)
		}
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	engineOpts := []pdp.Option{pdp.WithLogger(cfg.logger)}
	if cfg.pips != nil {
		engineOpts = append(engineOpts, pdp.WithPIPs(cfg.pips))
	}
	p := &PDP{engine: pdp.New(append(engineOpts, cfg.engineOpts...)...), cfg: cfg}
	if cfg.registerer != nil {
		m, err := newMetrics(cfg.registerer, p.revision)
		if err != nil {
			return nil, err
		}
		p.met = m
	}
	if err := p.activateFirst(ctx); err != nil {
		p.met.unregister()
		return nil, err
	}
	if cfg.decisionLog != nil {
		p.log = newDecisionLog(cfg.decisionLog, cfg.logBuffer, cfg.logger, p.met.droppedRecord)
	}
	active := p.engine.Active()
	cfg.logger.Info("sdk: policy active", "service", p.service(), "revision", active.Revision, "digest", active.Digest)
	return p, nil
}

func (c *config) check() error {
	switch {
	case c.policy == nil && c.lkgDir == "" && c.source == nil:
		return ErrNoPolicySource
	case c.lkgDir != "" && c.service == "":
		return fmt.Errorf("%w: WithLastKnownGood needs WithService", ErrConfig)
	case c.lkgDir != "" && c.trust == nil:
		return fmt.Errorf("%w: WithLastKnownGood needs WithTrustedKeys", ErrConfig)
	case c.logBuffer <= 0:
		return fmt.Errorf("%w: decision log buffer must be positive, got %d", ErrConfig, c.logBuffer)
	case c.logger == nil:
		return fmt.Errorf("%w: nil logger", ErrConfig)
	}
	return nil
}

// activateFirst gets the first policy active, as New documents.
func (p *PDP) activateFirst(ctx context.Context) error {
	cfg := &p.cfg
	var why []error
	if cfg.policy != nil {
		if err := p.engine.Activate(ctx, cfg.policy); err != nil {
			return fmt.Errorf("sdk: activate policy: %w", err)
		}
	}
	if cfg.lkgDir != "" {
		pol, err := activateLastKnownGood(ctx, p.engine, cfg.lkgDir, cfg.service, cfg.trust)
		switch {
		case err == nil:
			cfg.logger.Info("sdk: last-known-good bundle active", "service", cfg.service, "revision", pol.Revision, "dir", cfg.lkgDir)
		case errors.Is(err, fs.ErrNotExist):
			cfg.logger.Info("sdk: no last-known-good bundle", "service", cfg.service, "dir", cfg.lkgDir)
			why = append(why, fmt.Errorf("last-known-good: %w", err))
		default:
			cfg.logger.Warn("sdk: last-known-good bundle refused", "service", cfg.service, "dir", cfg.lkgDir, "error", err)
			why = append(why, fmt.Errorf("last-known-good: %w", err))
		}
	}
	// The source outlives ctx, which only bounds the wait for a first policy.
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	p.stop = stop
	if cfg.source == nil {
		if p.engine.Active() == nil {
			stop()
			return fmt.Errorf("sdk: no policy could be activated: %w", errors.Join(why...))
		}
		return nil
	}
	if p.engine.Active() != nil {
		p.background.Add(1)
		go func() {
			defer p.background.Done()
			if err := cfg.source.Start(life, p.engine); err != nil && life.Err() == nil {
				cfg.logger.Error("sdk: bundle source failed; deciding on the policy activated at start", "service", p.service(), "error", err)
			}
		}()
		return nil
	}
	// Start gets a context that lives as long as the PDP, so that a source
	// may tie its subscription to it; ctx only bounds the wait here.
	started := make(chan error, 1)
	go func() { started <- cfg.source.Start(life, p.engine) }()
	var err error
	select {
	case err = <-started:
		if err == nil && p.engine.Active() == nil {
			err = errors.New("the bundle source returned without activating a policy")
		}
	case <-ctx.Done():
		stop()
		closeErr := cfg.source.Close()
		<-started
		return errors.Join(fmt.Errorf("sdk: waiting for the first policy: %w", context.Cause(ctx)), errors.Join(why...), closeErr)
	}
	if err != nil {
		stop()
		return errors.Join(fmt.Errorf("sdk: waiting for the first policy: %w", err), errors.Join(why...), cfg.source.Close())
	}
	return nil
}

// Decide decides req on the active policy. It never fails open: when no
// decision can be made (no active policy, a request the engine cannot use,
// an engine failure, ctx ended, the PDP closed) it returns a Deny whose
// Status says why together with an error wrapping the cause. Every other
// outcome, including NotApplicable and Indeterminate, is returned as the
// engine made it with a nil error; enforcement points grant access on
// Permit only.
func (p *PDP) Decide(ctx context.Context, req *pdp.Request) (*pdp.Decision, error) {
	start := time.Now()
	var (
		d   *pdp.Decision
		err error
	)
	switch {
	case p.closed.Load():
		err = ErrClosed
	case req == nil:
		err = fmt.Errorf("%w: nil request", pdp.ErrBadRequest)
	default:
		d, err = p.engine.Decide(ctx, req)
	}
	reason := ""
	if err != nil {
		err = fmt.Errorf("sdk: decide: %w", err)
		reason = failReason(err)
		d = denyDecision(err, p.engine.Active())
	}
	took := time.Since(start)
	p.met.observe(d, reason, took)
	if p.log != nil {
		p.log.enqueue(ctx, newRecord(p.service(), req, d, err, start, took))
	}
	return d, err
}

// Policy returns the active policy, for health checks and heartbeats that
// report which revision a service runs.
func (p *PDP) Policy() *pdp.Policy { return p.engine.Active() }

// Close stops the bundle source, hands the queued decision-log records to
// the logger and unregisters the metrics. It is idempotent and safe to call
// concurrently with Decide; decisions after Close fail closed.
func (p *PDP) Close() error {
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		p.stop()
		if p.cfg.source != nil {
			p.closeErr = p.cfg.source.Close()
		}
		p.background.Wait()
		if p.log != nil {
			p.log.close()
		}
		p.met.unregister()
	})
	return p.closeErr
}

// tokenVerifier lets enforcement points in front of this PDP use the
// verifier given to New.
func (p *PDP) tokenVerifier() *token.Verifier { return p.cfg.verifier }

func (p *PDP) service() string {
	if p.cfg.service != "" {
		return p.cfg.service
	}
	if a := p.engine.Active(); a != nil {
		return a.Service
	}
	return ""
}

func (p *PDP) revision() float64 {
	if a := p.engine.Active(); a != nil {
		return float64(a.Revision)
	}
	return 0
}

// denyDecision is the fail-closed answer: a Deny that says why, tied to the
// active policy (if any) so that auditors see what was in force.
func denyDecision(err error, active *pdp.Policy) *pdp.Decision {
	code := pdp.StatusProcessingError
	if errors.Is(err, pdp.ErrBadRequest) || errors.Is(err, ErrNotRepresentable) {
		code = pdp.StatusSyntaxError
	}
	d := &pdp.Decision{
		ID:     newDecisionID(),
		Effect: pdp.EffectDeny,
		Status: pdp.Status{Code: code, Message: "fail closed: " + err.Error()},
	}
	if active != nil {
		d.Revision, d.Digest = active.Revision, active.Digest
	}
	return d
}

// failReason labels a fail-closed decision for metrics.
func failReason(err error) string {
	switch {
	case errors.Is(err, ErrClosed):
		return "closed"
	case errors.Is(err, pdp.ErrNoPolicy):
		return "no_policy"
	case errors.Is(err, pdp.ErrBadRequest):
		return "bad_request"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "engine_error"
}

func newDecisionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
