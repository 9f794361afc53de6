package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// Errors of configuration and serving, matched with errors.Is.
var (
	// ErrNoTransportSecurity: neither WithTLS nor WithInsecurePlaintext.
	ErrNoTransportSecurity = errors.New("server: TLS configuration required (or the explicit insecure plaintext opt-out)")
	// ErrPlaintextNotLoopback: plaintext on an address other hosts reach.
	ErrPlaintextNotLoopback = errors.New("server: insecure plaintext is only allowed on loopback addresses")
	// ErrServing: Serve was called twice or after Close.
	ErrServing = errors.New("server: already serving or closed")
)

// Publisher publishes a stored revision to the PDPs; *publish.Publisher is
// the production one.
type Publisher interface {
	Publish(ctx context.Context, rev store.Revision) (publish.Result, error)
}

// Reconciler republishes revisions the PDPs' subjects lack. When the
// Publisher also implements it, Serve runs it periodically and after
// failed publishes.
type Reconciler interface {
	Reconcile(ctx context.Context, st store.Store) ([]publish.Result, error)
}

// Server implements PolicyAdminService over a store and a publisher.
type Server struct {
	store   store.Store
	pub     Publisher
	cfg     config
	log     *slog.Logger
	metrics *metrics
	infos   infoCache
	kick    chan struct{}
	handler http.Handler
	grpc    *grpc.Server
	// tracker closes connections of revoked clients (WithRevocation).
	tracker *tlsconfig.ConnTracker

	mu        sync.Mutex
	serving   bool
	closed    bool
	stop      chan struct{}
	closeOnce sync.Once
}

// New returns a server storing revisions in st and publishing them with
// pub.
func New(st store.Store, pub Publisher, opts ...Option) (*Server, error) {
	cfg := config{
		publishTimeout:    DefaultPublishTimeout,
		reconcileInterval: DefaultReconcileInterval,
		maxBytes:          DefaultMaxMessageBytes,
		shutdownTimeout:   DefaultShutdownTimeout,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	switch {
	case st == nil || pub == nil:
		return nil, errors.New("server: a store and a publisher are required")
	case cfg.tls == nil && !cfg.plaintext:
		return nil, ErrNoTransportSecurity
	case cfg.tls != nil && cfg.plaintext:
		return nil, fmt.Errorf("%w: both TLS and insecure plaintext given", ErrNoTransportSecurity)
	case cfg.publishTimeout <= 0 || cfg.reconcileInterval <= 0 || cfg.maxBytes <= 0:
		return nil, errors.New("server: publish timeout, reconcile interval and message size must be positive")
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
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
		tracker = tlsconfig.NewConnTracker(cfg.revocation, tlsconfig.WithLogger(cfg.logger))
	}
	m, err := newMetrics(cfg.registerer)
	if err != nil {
		return nil, err
	}
	s := &Server{
		store:   st,
		pub:     pub,
		cfg:     cfg,
		log:     cfg.logger,
		metrics: m,
		infos:   infoCache{m: make(map[string]revInfo)},
		kick:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		tracker: tracker,
	}
	path, h := verdictv1connect.NewPolicyAdminServiceHandler(connectService{s},
		connect.WithReadMaxBytes(cfg.maxBytes))
	mux := http.NewServeMux()
	mux.Handle(path, withHTTPIdentity(h))
	s.handler = mux

	creds := insecure.NewCredentials()
	switch {
	case tracker != nil:
		creds = tracker.ServerCredentials(cfg.tls.Clone())
	case cfg.tls != nil:
		creds = credentials.NewTLS(cfg.tls.Clone())
	}
	s.grpc = grpc.NewServer(grpc.Creds(creds), grpc.MaxRecvMsgSize(cfg.maxBytes),
		grpc.UnaryInterceptor(unaryIdentity), grpc.StreamInterceptor(streamIdentity))
	verdictv1.RegisterPolicyAdminServiceServer(s.grpc, grpcService{s: s})
	return s, nil
}

// Handler returns the HTTP handler serving PolicyAdminService with the
// Connect, gRPC and gRPC-Web protocols, for callers running their own
// http.Server (it needs HTTP/2 for gRPC clients).
func (s *Server) Handler() http.Handler { return s.handler }

// GRPCServer returns the gRPC server carrying PolicyAdminService, for
// callers serving it themselves.
func (s *Server) GRPCServer() *grpc.Server { return s.grpc }

// Serve serves Connect on httpLn and gRPC on grpcLn (either may be nil)
// and runs the reconciler, until ctx ends or Close is called; then it shuts
// down gracefully. With WithInsecurePlaintext every listener must be on a
// loopback address.
func (s *Server) Serve(ctx context.Context, httpLn, grpcLn net.Listener) error {
	if s.cfg.plaintext {
		for _, ln := range []net.Listener{httpLn, grpcLn} {
			if ln != nil {
				if err := checkLoopback(ln.Addr().String()); err != nil {
					return err
				}
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

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	var wg sync.WaitGroup
	var hs *http.Server
	if httpLn != nil {
		protocols := new(http.Protocols)
		protocols.SetHTTP1(true)
		protocols.SetHTTP2(true)
		protocols.SetUnencryptedHTTP2(s.cfg.tls == nil)
		hs = &http.Server{
			Handler:           s.handler,
			Protocols:         protocols,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			BaseContext:       func(net.Listener) context.Context { return runCtx },
			// Whatever net/http reports goes to the server's slog logger,
			// never to the standard library's default logger.
			ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		}
		ln := httpLn
		if s.cfg.tls != nil {
			hs.TLSConfig = s.cfg.tls.Clone()
			// Handshake failures become structured lines naming the peer.
			hs.ErrorLog = tlsconfig.ServerErrorLog(runCtx, s.log, nil)
			ln = tlsconfig.Listener(httpLn, hs.TLSConfig)
			if s.tracker != nil {
				ln = s.tracker.Listener(httpLn, hs.TLSConfig)
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
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
	if r, ok := s.pub.(Reconciler); ok {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.reconcileLoop(runCtx, r)
		}()
	}

	var serveErr error
	select {
	case <-ctx.Done():
	case <-s.stop:
	case serveErr = <-errc:
	}
	// Streams (WatchRollout) end with the serving context.
	cancel()
	shutCtx, done := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.shutdownTimeout)
	defer done()
	if hs != nil {
		if err := hs.Shutdown(shutCtx); err != nil {
			_ = hs.Close()
		}
	}
	if grpcLn != nil {
		stopped := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
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

// Close stops a running Serve and makes later calls fail. It is
// idempotent.
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

// reconcileLoop publishes revisions the subjects lack, at start, every
// interval, and soon after a push failed to publish.
func (s *Server) reconcileLoop(ctx context.Context, r Reconciler) {
	t := time.NewTicker(s.cfg.reconcileInterval)
	defer t.Stop()
	for {
		res, err := r.Reconcile(ctx, s.store)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("reconciling published revisions", "err", err)
		}
		for _, p := range res {
			s.log.Info("published a revision the PDPs had not received", "service", p.Service, "revision", p.Revision)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
			// Give NATS a moment to come back before trying again.
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
}

// kickReconcile asks the reconciler to run soon.
func (s *Server) kickReconcile() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// checkLoopback returns nil when addr can only be reached from this
// machine.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrPlaintextNotLoopback, addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("%w: %q", ErrPlaintextNotLoopback, addr)
	}
	return nil
}
