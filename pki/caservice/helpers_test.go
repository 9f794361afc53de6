package caservice_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caservice"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509svid"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

const td = "example.org"

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// rpc is the API as both transports' clients see it, so that every test
// runs against the gRPC server and the Connect server alike.
type rpc interface {
	Sign(context.Context, *verdictv1.SignRequest) (*verdictv1.SignResponse, error)
	NewCert(context.Context, *verdictv1.NewCertRequest) (*verdictv1.NewCertResponse, error)
	Info(context.Context, *verdictv1.InfoRequest) (*verdictv1.InfoResponse, error)
	Revoke(context.Context, *verdictv1.RevokeRequest) (*verdictv1.RevokeResponse, error)
	CRL(context.Context, *verdictv1.CRLRequest) (*verdictv1.CRLResponse, error)
	CreateJoinToken(context.Context, *verdictv1.CreateJoinTokenRequest) (*verdictv1.CreateJoinTokenResponse, error)
	Redeem(context.Context, *verdictv1.RedeemRequest) (*verdictv1.RedeemResponse, error)
	Renew(context.Context, *verdictv1.RenewRequest) (*verdictv1.RenewResponse, error)
}

// codeOf reads the RPC code from either transport's error.
func codeOf(err error) connect.Code {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Code()
	}
	if s, ok := status.FromError(err); ok {
		return connect.Code(s.Code())
	}
	return connect.CodeUnknown
}

type grpcRPC struct {
	c verdictv1.CertificateAuthorityServiceClient
}

func (g grpcRPC) Sign(ctx context.Context, r *verdictv1.SignRequest) (*verdictv1.SignResponse, error) {
	return g.c.Sign(ctx, r)
}
func (g grpcRPC) NewCert(ctx context.Context, r *verdictv1.NewCertRequest) (*verdictv1.NewCertResponse, error) {
	return g.c.NewCert(ctx, r)
}
func (g grpcRPC) Info(ctx context.Context, r *verdictv1.InfoRequest) (*verdictv1.InfoResponse, error) {
	return g.c.Info(ctx, r)
}
func (g grpcRPC) Revoke(ctx context.Context, r *verdictv1.RevokeRequest) (*verdictv1.RevokeResponse, error) {
	return g.c.Revoke(ctx, r)
}
func (g grpcRPC) CRL(ctx context.Context, r *verdictv1.CRLRequest) (*verdictv1.CRLResponse, error) {
	return g.c.CRL(ctx, r)
}
func (g grpcRPC) CreateJoinToken(ctx context.Context, r *verdictv1.CreateJoinTokenRequest) (*verdictv1.CreateJoinTokenResponse, error) {
	return g.c.CreateJoinToken(ctx, r)
}
func (g grpcRPC) Redeem(ctx context.Context, r *verdictv1.RedeemRequest) (*verdictv1.RedeemResponse, error) {
	return g.c.Redeem(ctx, r)
}
func (g grpcRPC) Renew(ctx context.Context, r *verdictv1.RenewRequest) (*verdictv1.RenewResponse, error) {
	return g.c.Renew(ctx, r)
}

type connectRPC struct {
	c verdictv1connect.CertificateAuthorityServiceClient
}

func msg[T any](r *connect.Response[T], err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return r.Msg, nil
}

func (c connectRPC) Sign(ctx context.Context, r *verdictv1.SignRequest) (*verdictv1.SignResponse, error) {
	return msg(c.c.Sign(ctx, connect.NewRequest(r)))
}
func (c connectRPC) NewCert(ctx context.Context, r *verdictv1.NewCertRequest) (*verdictv1.NewCertResponse, error) {
	return msg(c.c.NewCert(ctx, connect.NewRequest(r)))
}
func (c connectRPC) Info(ctx context.Context, r *verdictv1.InfoRequest) (*verdictv1.InfoResponse, error) {
	return msg(c.c.Info(ctx, connect.NewRequest(r)))
}
func (c connectRPC) Revoke(ctx context.Context, r *verdictv1.RevokeRequest) (*verdictv1.RevokeResponse, error) {
	return msg(c.c.Revoke(ctx, connect.NewRequest(r)))
}
func (c connectRPC) CRL(ctx context.Context, r *verdictv1.CRLRequest) (*verdictv1.CRLResponse, error) {
	return msg(c.c.CRL(ctx, connect.NewRequest(r)))
}
func (c connectRPC) CreateJoinToken(ctx context.Context, r *verdictv1.CreateJoinTokenRequest) (*verdictv1.CreateJoinTokenResponse, error) {
	return msg(c.c.CreateJoinToken(ctx, connect.NewRequest(r)))
}
func (c connectRPC) Redeem(ctx context.Context, r *verdictv1.RedeemRequest) (*verdictv1.RedeemResponse, error) {
	return msg(c.c.Redeem(ctx, connect.NewRequest(r)))
}
func (c connectRPC) Renew(ctx context.Context, r *verdictv1.RenewRequest) (*verdictv1.RenewResponse, error) {
	return msg(c.c.Renew(ctx, connect.NewRequest(r)))
}

// fixture runs one CA behind a real gRPC server and a real Connect (HTTP/2)
// server, both with mTLS (client certificates optional, as Redeem needs).
type fixture struct {
	ca         *ca.CA
	grpcAddr   string
	httpURL    string
	listenAddr string // Service.Listen: Connect handler serving gRPC too
}

func newFixture(t *testing.T, opts ...ca.Option) *fixture {
	t.Helper()
	ctx := t.Context()
	c, err := ca.New(ctx, t.TempDir(), append([]ca.Option{ca.WithTrustDomain(td), ca.WithLogger(quiet()),
		ca.WithAuditSink(ca.SlogAudit(quiet()))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	f := &fixture{ca: c}
	key := newKey(t)
	issued, err := c.Issue(ctx, ca.IssueRequest{PublicKey: key.Public(), Service: "ca", Profile: ca.ProfileServer,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}})
	if err != nil {
		t.Fatal(err)
	}
	svid, err := x509svid.New(issued.Chain(), key)
	if err != nil {
		t.Fatal(err)
	}
	src, err := tlsconfig.NewSource(svid, c.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	serverTLS := func() *tls.Config {
		return tlsconfig.ServerConfig(src, tlsconfig.WithOptionalClientCert(), tlsconfig.WithRevocationChecker(c.Revocations()),
			tlsconfig.WithAuthorizer(tlsconfig.AuthorizeMemberOf(td)), tlsconfig.WithLogger(quiet()))
	}
	svc := caservice.New(c, caservice.WithLogger(quiet()), caservice.WithEndpoints("https://ca.example/crl", "https://ca.example/ocsp"))

	var lc net.ListenConfig
	gln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.Creds(credentials.NewTLS(serverTLS())))
	svc.RegisterGRPC(gs)
	go func() { _ = gs.Serve(gln) }()
	t.Cleanup(gs.Stop)
	f.grpcAddr = gln.Addr().String()

	hln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(svc.ConnectHandler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(tls.NewListener(hln, serverTLS())) }()
	t.Cleanup(func() { _ = hs.Close() })
	f.httpURL = "https://" + hln.Addr().String()

	ls, err := svc.Listen(ctx, "127.0.0.1:0", src, tlsconfig.WithLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ls.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := ls.Close(); err != nil {
			t.Errorf("second close: %v", err)
		}
	})
	f.listenAddr = ls.Addr().String()
	return f
}

// svid issues a certificate for service directly from the CA.
func (f *fixture) svid(t *testing.T, service string, p ca.Profile) *x509svid.SVID {
	t.Helper()
	key := newKey(t)
	got, err := f.ca.Issue(t.Context(), ca.IssueRequest{PublicKey: key.Public(), Service: service, Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	s, err := x509svid.New(got.Chain(), key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clientTLS authenticates with svid (nil: no client certificate) and
// accepts only the CA's own identity.
func (f *fixture) clientTLS(t *testing.T, svid *x509svid.SVID) *tls.Config {
	t.Helper()
	if svid == nil {
		return &tls.Config{RootCAs: f.ca.Bundle().Pool(), MinVersion: tls.VersionTLS12}
	}
	src, err := tlsconfig.NewSource(svid, f.ca.Bundle())
	if err != nil {
		t.Fatal(err)
	}
	return tlsconfig.ClientConfig(src, tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(td, "ca"))),
		tlsconfig.WithLogger(quiet()))
}

// clients returns one client per transport, named for subtests.
func (f *fixture) clients(t *testing.T, svid *x509svid.SVID) map[string]rpc {
	t.Helper()
	cfg := f.clientTLS(t, svid)
	grpcConn := func(addr string) *grpc.ClientConn {
		conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg.Clone())))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return conn
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg.Clone(), ForceAttemptHTTP2: true}}
	t.Cleanup(hc.CloseIdleConnections)
	return map[string]rpc{
		"grpc":           grpcRPC{c: verdictv1.NewCertificateAuthorityServiceClient(grpcConn(f.grpcAddr))},
		"connect":        connectRPC{c: verdictv1connect.NewCertificateAuthorityServiceClient(hc, f.httpURL)},
		"listen-grpc":    grpcRPC{c: verdictv1.NewCertificateAuthorityServiceClient(grpcConn(f.listenAddr))},
		"listen-connect": connectRPC{c: verdictv1connect.NewCertificateAuthorityServiceClient(hc, "https://"+f.listenAddr)},
	}
}

func newKey(t testing.TB) crypto.Signer {
	t.Helper()
	k, err := keyfile.Generate(keyfile.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func csrPEM(t testing.TB, key crypto.Signer, dns ...string) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}, DNSNames: dns}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func parseCert(t testing.TB, s string) *x509.Certificate {
	t.Helper()
	certs, err := x509svid.ParseCertificates([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

func mustID(t testing.TB, service string) spiffeid.ID {
	t.Helper()
	id, err := spiffeid.New(td, service)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func bigInt(n int64) *big.Int { return big.NewInt(n) }
