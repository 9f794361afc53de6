package caservice

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

// Server serves the service on one mTLS listener to gRPC, gRPC-Web and
// Connect clients alike (Connect handlers speak all three over HTTP/2), for
// deployments such as `verdict ca serve --rpc` that have no gRPC server of
// their own to register on.
type Server struct {
	ln       net.Listener
	http     *http.Server
	tracker  *tlsconfig.ConnTracker
	ctx      context.Context // values for shutdown; never cancelled
	serveErr chan error
	once     sync.Once
	closeErr error
}

// Listen binds addr and serves the service with src's certificate, returning
// once the listener is bound. Client certificates are optional (Redeem
// needs none) but verified against src's bundle and the CA's revocation set
// when sent, and live connections of a certificate revoked later are
// closed. tlsOpts add to the TLS configuration (metrics, clock, logger).
func (s *Service) Listen(ctx context.Context, addr string, src *tlsconfig.Source, tlsOpts ...tlsconfig.Option) (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("caservice: %w", err)
	}
	opts := append([]tlsconfig.Option{
		tlsconfig.WithOptionalClientCert(),
		tlsconfig.WithRevocationChecker(s.ca.Revocations()),
		tlsconfig.WithAuthorizer(tlsconfig.AuthorizeMemberOf(s.ca.TrustDomain())),
		tlsconfig.WithLogger(s.cfg.logger),
	}, tlsOpts...)
	srv := &Server{ln: ln, ctx: context.WithoutCancel(ctx), serveErr: make(chan error, 1)}
	srv.tracker = tlsconfig.NewConnTracker(s.ca.Revocations(), tlsconfig.WithLogger(s.cfg.logger))
	mux := http.NewServeMux()
	mux.Handle(s.ConnectHandler())
	srv.http = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          tlsconfig.ServerErrorLog(ctx, s.cfg.logger, src),
		BaseContext:       func(net.Listener) context.Context { return srv.ctx },
	}
	tlsLn := srv.tracker.Listener(ln, tlsconfig.ServerConfig(src, opts...))
	go func() { srv.serveErr <- srv.http.Serve(tlsLn) }()
	return srv, nil
}

// Addr returns the bound address (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops serving, giving in-flight calls a few seconds; it is
// idempotent and does not close the CA.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		defer cancel()
		err := s.http.Shutdown(ctx)
		if serr := <-s.serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		s.closeErr = errors.Join(err, s.tracker.Close())
	})
	return s.closeErr
}
