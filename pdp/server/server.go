package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

// Errors of the serving lifecycle and of deciding, matched with errors.Is.
var (
	// ErrNotReady: the engine has no active policy yet.
	ErrNotReady = errors.New("server: no active policy")
	// ErrBusy: no decision slot became free before the request's deadline.
	ErrBusy = errors.New("server: too many requests in flight")
	// ErrServing: Serve was called twice, or after Close.
	ErrServing = errors.New("server: already serving or closed")
)

// Server serves one engine over AuthZEN HTTP, Connect, gRPC and Envoy
// ext_authz. Create it with New, run it with Serve, stop it by ending
// Serve's context or with Close.
type Server struct {
	engine  *pdp.Engine
	cfg     config
	metrics *metrics
	limit   *limiter
	handler http.Handler
	grpc    *grpc.Server
	health  *healthState
	// tracker closes connections of revoked clients (WithRevocation).
	tracker *tlsconfig.ConnTracker
	buffers bufferPool
	ids     *requestIDs

	mu        sync.Mutex
	serving   bool
	closed    bool
	stop      chan struct{}
	closeOnce sync.Once
}

// New builds a server for engine. It needs WithTLS or WithInsecurePlaintext
// (ErrNoTransportSecurity otherwise).
func New(engine *pdp.Engine, opts ...Option) (*Server, error) {
	if engine == nil {
		return nil, errors.New("server: nil engine")
	}
	cfg := newConfig(opts)
	switch {
	case cfg.tls == nil && !cfg.plaintext:
		return nil, ErrNoTransportSecurity
	case cfg.tls != nil && cfg.plaintext:
		return nil, fmt.Errorf("%w: both TLS and insecure plaintext given", ErrNoTransportSecurity)
	}
	if cfg.tls != nil {
		cfg.tls = tlsconfig.ForHTTPServing(cfg.tls)
	}
	var tracker *tlsconfig.ConnTracker
	if cfg.revocation != nil {
		if cfg.tls == nil {
			return nil, fmt.Errorf("%w: revocation checks need TLS", ErrNoTransportSecurity)
		}
		cfg.tls = tlsconfig.RefuseRevoked(cfg.tls, cfg.revocation, tlsconfig.WithLogger(cfg.logger))
	}
	if cfg.registry == nil {
		cfg.registry = prometheus.NewRegistry()
	}
	m, err := newMetrics(cfg.registry)
	if err != nil {
		return nil, err
	}
	s := &Server{
		engine:  engine,
		cfg:     cfg,
		metrics: m,
		limit:   newLimiter(cfg),
		ids:     newRequestIDs(),
		stop:    make(chan struct{}),
	}
	if cfg.revocation != nil {
		tracker = tlsconfig.NewConnTracker(cfg.revocation, tlsconfig.WithLogger(cfg.logger))
	}
	s.tracker = tracker
	s.health = newHealthState(engine)
	s.handler = s.newHandler()
	s.grpc = s.newGRPCServer()
	return s, nil
}

// Handler returns the HTTP handler (AuthZEN, Connect, /metrics, /healthz),
// for callers that run their own http.Server; Serve uses it too.
func (s *Server) Handler() http.Handler { return s.handler }

// GRPCServer returns the gRPC server (DecisionService, ext_authz, health,
// reflection), for callers that serve it themselves; Serve uses it too. It
// carries the transport credentials given to New.
func (s *Server) GRPCServer() *grpc.Server { return s.grpc }

// Serve serves HTTP on httpLn and gRPC on grpcLn (either may be nil) until
// ctx ends or Close is called, then shuts down gracefully: health turns to
// NOT_SERVING, listeners close, and in-flight requests get
// WithShutdownTimeout to finish. It returns nil after a clean shutdown, or
// the first serving error. With WithInsecurePlaintext every listener must
// be on a loopback address.
func (s *Server) Serve(ctx context.Context, httpLn, grpcLn net.Listener) error {
	if s.cfg.plaintext {
		for _, ln := range []net.Listener{httpLn, grpcLn} {
			if ln == nil {
				continue
			}
			if err := CheckLoopback(ln.Addr().String()); err != nil {
				return err
			}
		}
	}
	s.mu.Lock()
	if s.serving || s.closed {
		s.mu.Unlock()
		return ErrServing
	}
	s.serving = true
	s.mu.Unlock()

	errc := make(chan error, 2)
	var wg sync.WaitGroup
	var hs *http.Server
	if httpLn != nil {
		hs = s.newHTTPServer(ctx)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ln := httpLn
			switch {
			case s.tracker != nil:
				ln = s.tracker.Listener(httpLn, hs.TLSConfig)
			case s.cfg.tls != nil:
				ln = tlsconfig.Listener(httpLn, hs.TLSConfig)
			}
			err := hs.Serve(ln)
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("server: http: %w", err)
			}
		}()
	}
	if grpcLn != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ln := grpcLn
			if s.cfg.tls != nil {
				// Refused clients read the alert rather than a reset.
				ln = tlsconfig.GracefulListener(grpcLn)
			}
			if err := s.grpc.Serve(ln); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
				errc <- fmt.Errorf("server: grpc: %w", err)
			}
		}()
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.health.watch(watchCtx)

	var serveErr error
	select {
	case <-ctx.Done():
	case <-s.stop:
	case serveErr = <-errc:
	}
	s.cfg.logger.Info("pdp server shutting down")
	s.health.shutdown()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.shutdownTimeout)
	defer cancel()
	if hs != nil {
		if err := hs.Shutdown(shutCtx); err != nil {
			_ = hs.Close()
		}
	}
	if grpcLn != nil {
		done := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-shutCtx.Done():
			s.grpc.Stop()
		}
	}
	wg.Wait()
	s.closeTracker()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return serveErr
}

// Close stops a running Serve (which then shuts down gracefully) and makes
// later Serve calls fail. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	s.mu.Lock()
	serving := s.serving
	s.closed = true
	s.mu.Unlock()
	if !serving {
		s.closeTracker()
	}
	return nil
}

// closeTracker stops listening for revocations (Serve's end, or Close
// without Serve).
func (s *Server) closeTracker() {
	if s.tracker != nil {
		_ = s.tracker.Close()
	}
}

// newHTTPServer configures net/http with bounded header size and timeouts,
// and HTTP/2 (TLS) or h2c (plaintext) so that gRPC-protocol Connect
// clients work on the HTTP port too.
func (s *Server) newHTTPServer(ctx context.Context) *http.Server {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      s.cfg.timeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          slog.NewLogLogger(s.cfg.logger.Handler(), slog.LevelWarn),
	}
	if s.cfg.tls != nil {
		hs.TLSConfig = s.cfg.tls.Clone()
		// Handshake failures become structured lines naming the peer;
		// refusals of ours are already logged with their reason.
		hs.ErrorLog = tlsconfig.ServerErrorLog(context.WithoutCancel(ctx), s.cfg.logger, nil)
	} else {
		p := new(http.Protocols)
		p.SetHTTP1(true)
		p.SetUnencryptedHTTP2(true)
		hs.Protocols = p
	}
	return hs
}

// withDeadline applies the default request timeout when ctx has no deadline.
func (s *Server) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.cfg.timeout)
}

// acquire takes a decision slot, waiting until ctx ends at most (and not
// at all when too many requests wait already); release gives it back (a
// method, not a returned closure, which would cost an allocation per
// request). The slots bound the memory a flood of requests can pin.
func (s *Server) acquire(ctx context.Context) error { return s.acquireBody(ctx, 0) }

// release gives back the slot of a successful acquire.
func (s *Server) release() { s.releaseBody(0) }

// decide asks the engine. A request the engine cannot use is an error
// wrapping pdp.ErrBadRequest; no active policy is ErrNotReady; an expired
// deadline is the context's error; any other failure becomes an Indeterminate decision with a processing-error
// status, because a failure to decide is a decision a PEP must enforce as
// not granted, not a transport error.
func (s *Server) decide(ctx context.Context, req *pdp.Request) (*pdp.Decision, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	start := time.Now()
	d, err := s.engine.Decide(ctx, req)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		// The deadline passed while deciding: the caller is told so, not
		// given a decision made on a cut-short evaluation.
		return nil, fmt.Errorf("server: %w", ctx.Err())
	case errors.Is(err, pdp.ErrNoPolicy):
		return nil, fmt.Errorf("%w: %w", ErrNotReady, err)
	case errors.Is(err, pdp.ErrBadRequest):
		return nil, err
	default:
		s.cfg.logger.Warn("decision failed", "err", err)
		d = &pdp.Decision{
			Effect:   pdp.EffectIndeterminate,
			Extended: "DP",
			Status:   pdp.Status{Code: pdp.StatusProcessingError, Message: err.Error()},
		}
		if p := s.engine.Active(); p != nil {
			d.Revision, d.Digest = p.Revision, p.Digest
		}
	}
	s.metrics.decision(d.Effect)
	if s.cfg.decisionLog != nil {
		s.logDecision(ctx, start, req, d)
	}
	return d, nil
}
