package caserver

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caapi"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/renewal"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// ServiceName is the identity of the CA's own serving certificate:
// spiffe://<trust-domain>/service/ca.
const ServiceName = caapi.ServiceName

// Server is a running HTTPS endpoint for a CA.
type Server struct {
	ca       *ca.CA
	cfg      config
	ctx      context.Context // values for shutdown; never cancelled
	ln       net.Listener
	http     *http.Server
	src      *tlsconfig.Source
	renewer  *renewal.Renewer
	tracker  *tlsconfig.ConnTracker
	serveErr chan error
	once     sync.Once
	closeErr error
}

// New listens, issues the server's own certificate from c, and starts
// serving; it returns once the listener is bound. The serving certificate is
// renewed in the background like any workload's.
func New(ctx context.Context, c *ca.CA, opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("caserver: %w", err)
	}
	s := &Server{ca: c, cfg: cfg, ctx: context.WithoutCancel(ctx), ln: ln, serveErr: make(chan error, 1)}
	if err := s.start(ctx); err != nil {
		_ = ln.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context) error {
	hosts := slices.Clone(s.cfg.hosts)
	if tcp, ok := s.ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsUnspecified() {
		hosts = append(hosts, tcp.IP.String())
	}
	dns, ips, err := ca.ParseHosts(hosts)
	if err != nil {
		return fmt.Errorf("caserver: %w", err)
	}
	local := &localIssuer{ca: s.ca, dns: dns, ips: ips, lifetime: s.cfg.lifetime}
	svid, err := local.issue(ctx)
	if err != nil {
		return err
	}
	if s.src, err = tlsconfig.NewSource(svid, s.ca.Bundle()); err != nil {
		return fmt.Errorf("caserver: %w", err)
	}
	if s.renewer, err = renewal.New(ctx, s.src, local, renewal.WithLogger(s.cfg.logger)); err != nil {
		return fmt.Errorf("caserver: %w", err)
	}
	tlsOpts := append([]tlsconfig.Option{
		tlsconfig.WithOptionalClientCert(),
		tlsconfig.WithRevocationChecker(s.ca.Revocations()),
		tlsconfig.WithAuthorizer(tlsconfig.AuthorizeMemberOf(s.ca.TrustDomain())),
		tlsconfig.WithLogger(s.cfg.logger),
	}, s.cfg.tlsOptions...)
	s.tracker = tlsconfig.NewConnTracker(s.ca.Revocations(), tlsconfig.WithLogger(s.cfg.logger))
	s.http = &http.Server{
		Handler:           NewHandler(s.ca, s.cfg.logger),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          tlsconfig.ServerErrorLog(ctx, s.cfg.logger, s.src),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
	}
	tlsLn := s.tracker.Listener(s.ln, tlsconfig.ServerConfig(s.src, tlsOpts...))
	go func() { s.serveErr <- s.http.Serve(tlsLn) }()
	s.cfg.logger.InfoContext(ctx, "ca: listening", "url", s.URL(), "root_fingerprint", s.Fingerprint().String())
	return nil
}

// URL returns the base URL, https://host:port.
func (s *Server) URL() string { return "https://" + s.ln.Addr().String() }

// Addr returns the bound address (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Fingerprint is the SHA-256 fingerprint of the root that bootstrap pins.
func (s *Server) Fingerprint() x509bundle.Fingerprint { return x509bundle.FingerprintOf(s.ca.Root()) }

// Source returns the server's own certificate source.
func (s *Server) Source() *tlsconfig.Source { return s.src }

// Close stops serving (in-flight requests get a few seconds) and the
// renewer; it is idempotent and does not close the CA.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		defer cancel()
		err := s.http.Shutdown(ctx)
		if serr := <-s.serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		s.closeErr = errors.Join(err, s.renewer.Close(), s.tracker.Close())
	})
	return s.closeErr
}

// localIssuer issues and renews the server's own certificate directly from
// the CA. The chain it returns ends with the root, so that bootstrap clients
// can pin the root by fingerprint during the handshake.
type localIssuer struct {
	ca       *ca.CA
	dns      []string
	ips      []net.IP
	lifetime time.Duration
}

func (l *localIssuer) issue(ctx context.Context) (*x509svid.SVID, error) {
	key, err := keyfile.Generate(keyfile.ECDSAP256)
	if err != nil {
		return nil, fmt.Errorf("caserver: %w", err)
	}
	chain, err := l.sign(ctx, key.Public())
	if err != nil {
		return nil, err
	}
	svid, err := x509svid.New(chain, key)
	if err != nil {
		return nil, fmt.Errorf("caserver: %w", err)
	}
	return svid, nil
}

func (l *localIssuer) sign(ctx context.Context, pub any) ([]*x509.Certificate, error) {
	issued, err := l.ca.Issue(ctx, ca.IssueRequest{
		PublicKey: pub, Service: ServiceName, Profile: ca.ProfileServer,
		DNSNames: l.dns, IPAddresses: l.ips, Lifetime: l.lifetime,
	})
	if err != nil {
		return nil, fmt.Errorf("caserver: own certificate: %w", err)
	}
	return append(issued.Chain(), l.ca.Root()), nil
}

// Renew implements renewal.Issuer.
func (l *localIssuer) Renew(ctx context.Context, csrDER []byte) ([]*x509.Certificate, *x509bundle.Bundle, error) {
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return nil, nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, nil, err
	}
	chain, err := l.sign(ctx, csr.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return chain, l.ca.Bundle(), nil
}

// Option configures New.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	addr       string
	hosts      []string
	lifetime   time.Duration
	logger     *slog.Logger
	tlsOptions []tlsconfig.Option
}

func defaultConfig() config {
	return config{addr: "127.0.0.1:0", hosts: []string{"localhost"}, logger: slog.Default()}
}

// WithAddr sets the listen address (default 127.0.0.1:0, a free port).
func WithAddr(addr string) Option { return optionFunc(func(c *config) { c.addr = addr }) }

// WithHosts sets the DNS names and IPs of the serving certificate, besides
// the bound IP (default "localhost").
func WithHosts(hosts ...string) Option { return optionFunc(func(c *config) { c.hosts = hosts }) }

// WithCertificateLifetime sets the lifetime of the serving certificate
// (default: the CA's default lifetime).
func WithCertificateLifetime(d time.Duration) Option {
	return optionFunc(func(c *config) { c.lifetime = d })
}

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithTLSOptions adds tlsconfig options (metrics, clock) to the server's TLS
// configuration.
func WithTLSOptions(opts ...tlsconfig.Option) Option {
	return optionFunc(func(c *config) { c.tlsOptions = append(c.tlsOptions, opts...) })
}
