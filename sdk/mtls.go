package sdk

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"

	"github.com/nats-io/nats.go"
	"google.golang.org/grpc/credentials"

	"github.com/verdict-authz/verdict/pki/natsauth/inbox"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
)

// MutualTLS is a service's mutual-TLS identity for everything around its
// embedded PDP: the servers its enforcement points protect (net/http,
// gRPC, Connect) and its clients (NATS for bundles, a remote PDP). Every
// configuration it hands out follows the Source (renewal swaps the
// certificate without restart) and, with WithRevocation, refuses peers
// whose certificate is revoked — at the handshake, and by closing the live
// connections that use it as soon as the revocation arrives.
//
//	mt := sdk.NewMutualTLS(src, sdk.WithRevocation(set))
//	sub, _ := mt.SubscribeRevocations(ctx, nc)  // the CA's events
//	srv := &http.Server{Handler: sdk.Middleware(pdp)(mux), TLSConfig: mt.ServerConfig()}
//	srv.Serve(mt.Listener(ln))
type MutualTLS struct {
	src     *tlsconfig.Source
	cfg     mtlsConfig
	tracker *tlsconfig.ConnTracker
}

// MutualTLSOption configures NewMutualTLS.
type MutualTLSOption interface{ applyToMutualTLS(*mtlsConfig) }

type mtlsConfig struct {
	set      *revocation.Set
	checkers []revocation.Checker
	clients  tlsconfig.Authorizer
	logger   *slog.Logger
}

type mtlsOptionFunc func(*mtlsConfig)

func (f mtlsOptionFunc) applyToMutualTLS(c *mtlsConfig) { f(c) }

// WithRevocation refuses peers whose serial is in set and closes their
// live connections when it is added. Feed set from the CA's events
// (MutualTLS.SubscribeRevocations or revocation.Subscribe).
func WithRevocation(set *revocation.Set) MutualTLSOption {
	return mtlsOptionFunc(func(c *mtlsConfig) { c.set = set })
}

// WithRevocationChecker refuses, at the handshake, peers c reports revoked
// (a revocation.CRL, for revocations published while the service was
// away); it closes no live connection.
func WithRevocationChecker(c revocation.Checker) MutualTLSOption {
	return mtlsOptionFunc(func(m *mtlsConfig) { m.checkers = append(m.checkers, c) })
}

// WithClientAuthorizer sets which callers the service's servers accept at
// the TLS layer (default: any service of the service's own trust domain;
// policies decide the rest from the "workload" attribute).
func WithClientAuthorizer(a tlsconfig.Authorizer) MutualTLSOption {
	return mtlsOptionFunc(func(c *mtlsConfig) { c.clients = a })
}

// WithTLSLogger sets where refused handshakes and closed connections are
// logged (default slog.Default()).
func WithTLSLogger(l *slog.Logger) MutualTLSOption {
	return mtlsOptionFunc(func(c *mtlsConfig) { c.logger = l })
}

// NewMutualTLS returns the service's mutual-TLS settings over src. Close
// it when the service stops.
func NewMutualTLS(src *tlsconfig.Source, opts ...MutualTLSOption) *MutualTLS {
	cfg := mtlsConfig{logger: slog.Default()}
	for _, o := range opts {
		if o != nil {
			o.applyToMutualTLS(&cfg)
		}
	}
	if cfg.clients == nil {
		if own := src.SVID().ID; !own.IsZero() {
			cfg.clients = tlsconfig.AuthorizeMemberOf(own.TrustDomain())
		}
	}
	m := &MutualTLS{src: src, cfg: cfg}
	if cfg.set != nil {
		m.tracker = tlsconfig.NewConnTracker(cfg.set, tlsconfig.WithLogger(cfg.logger))
	}
	return m
}

// options are the tlsconfig options every configuration shares.
func (m *MutualTLS) options() []tlsconfig.Option {
	opts := []tlsconfig.Option{tlsconfig.WithLogger(m.cfg.logger)}
	checkers := m.cfg.checkers
	if m.cfg.set != nil {
		checkers = append([]revocation.Checker{m.cfg.set}, checkers...)
	}
	if len(checkers) > 0 {
		opts = append(opts, tlsconfig.WithRevocationChecker(revocation.Any(checkers...)))
	}
	return opts
}

// ServerConfig is the TLS configuration of the service's PEP servers:
// client certificates required, checked against the current bundle, the
// client authorizer and revocation.
func (m *MutualTLS) ServerConfig() *tls.Config {
	opts := m.options()
	if m.cfg.clients != nil {
		opts = append(opts, tlsconfig.WithAuthorizer(m.cfg.clients))
	}
	return tlsconfig.ServerConfig(m.src, opts...)
}

// Listener wraps ln for an HTTP (or Connect) PEP server: it handshakes
// with ServerConfig and, with WithRevocation, closes connections whose
// client gets revoked. Serve it with http.Server.Serve, setting the
// server's TLSConfig to ServerConfig() so that HTTP/2 is offered.
func (m *MutualTLS) Listener(ln net.Listener) net.Listener {
	if m.tracker != nil {
		return m.tracker.Listener(ln, m.ServerConfig())
	}
	return tlsconfig.Listener(ln, m.ServerConfig())
}

// GRPCServerCredentials are the credentials of a gRPC PEP server
// (grpc.Creds): ServerConfig, and with WithRevocation, connections closed
// when their client gets revoked. Serve on GRPCListener(ln).
func (m *MutualTLS) GRPCServerCredentials() credentials.TransportCredentials {
	if m.tracker != nil {
		return m.tracker.ServerCredentials(m.ServerConfig())
	}
	return credentials.NewTLS(m.ServerConfig())
}

// GRPCListener wraps a gRPC server's listener so that refused clients
// read the TLS alert naming the refusal rather than a connection reset.
func (m *MutualTLS) GRPCListener(ln net.Listener) net.Listener { return tlsconfig.GracefulListener(ln) }

// ClientConfig is the TLS configuration of a client of server: this
// service's certificate, and the server checked against the bundle, its
// expected identity and revocation.
func (m *MutualTLS) ClientConfig(server spiffeid.ID) *tls.Config {
	return tlsconfig.ClientConfig(m.src, append(m.options(), tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(server)))...)
}

// NATSOptions connect to a NATS server (a tls:// URL) presenting this
// service's certificate and expecting server's identity. They include the
// inbox prefix of the certificate's service (inbox.ForID), which the
// platform's NATS (verdict up, pki/natsauth) requires: without it every
// request — JetStream consumers for bundles, acknowledgements of decision
// records — would wait for replies the server never delivers. Renewal
// keeps the service, so the prefix stays valid for the connection's life.
// Pair the connection with WatchNATS so that it is dropped if the
// server's certificate gets revoked.
func (m *MutualTLS) NATSOptions(server spiffeid.ID) []nats.Option {
	opts := []nats.Option{nats.Secure(m.ClientConfig(server))}
	if p := inbox.ForID(m.src.SVID().ID); p != "" {
		opts = append(opts, nats.CustomInboxPrefix(p))
	}
	return opts
}

// WatchNATS drops nc when the certificate its server presented gets
// revoked (see revocation.WatchConn); reconnections are then refused
// until a server with a valid certificate answers. It needs
// WithRevocation; the returned function stops watching.
func (m *MutualTLS) WatchNATS(nc *nats.Conn) (stop func()) {
	if m.cfg.set == nil {
		return func() {}
	}
	return revocation.WatchConn(nc, m.cfg.set, m.cfg.logger)
}

// SubscribeRevocations feeds the WithRevocation set from the CA's events
// on nc; it returns ErrConfig without WithRevocation.
func (m *MutualTLS) SubscribeRevocations(ctx context.Context, nc *nats.Conn, opts ...revocation.NATSOption) (*revocation.Subscriber, error) {
	if m.cfg.set == nil {
		return nil, errNoRevocationSet
	}
	return revocation.Subscribe(ctx, nc, m.cfg.set, append([]revocation.NATSOption{revocation.WithNATSLogger(m.cfg.logger)}, opts...)...)
}

// errNoRevocationSet refuses SubscribeRevocations without WithRevocation.
var errNoRevocationSet = fmt.Errorf("%w: SubscribeRevocations needs WithRevocation", ErrConfig)

// dialTLS is the dial function of a Remote using this identity: tracked,
// so that the connection to a PDP whose certificate gets revoked closes.
func (m *MutualTLS) dialTLS(cfg *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if m.tracker == nil {
		return nil
	}
	cfg = cfg.Clone()
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	return m.tracker.DialTLSContext(cfg)
}

// Close stops following revocations; connections stay open. It is
// idempotent.
func (m *MutualTLS) Close() error {
	if m.tracker != nil {
		return m.tracker.Close()
	}
	return nil
}

// WithMutualTLS makes NewRemote authenticate with mt's certificate and
// expect the PDP's identity pdp (pass a nil tlsConfig to NewRemote), and,
// with WithRevocation, close the connections to a PDP whose certificate
// gets revoked.
func WithMutualTLS(mt *MutualTLS, pdp spiffeid.ID) RemoteOption {
	return remoteOptionFunc(func(c *remoteConfig) { c.mtls, c.mtlsPeer = mt, pdp })
}
