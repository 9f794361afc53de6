package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caapi"
	"github.com/verdict-authz/verdict/pki/caserver"
	"github.com/verdict-authz/verdict/pki/caservice"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/natsauth"
	"github.com/verdict-authz/verdict/pki/ocspresponder"
	"github.com/verdict-authz/verdict/pki/renewal"
	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

// Identities of the components `verdict up` runs, as service names under
// spiffe://<trust-domain>/service/. The remote PDP has the identity of the
// service it decides for (upPDPService): it is that service's PDP.
const (
	upNATSService = "nats"
	upCADir       = "ca"
)

// upPKI is the built-in CA of `verdict up` and what every component needs
// from it: certificates that renew themselves, server and client TLS
// configurations that check the CA's live revocation set, and a tracker
// that cuts the connections of a certificate the moment it is revoked.
type upPKI struct {
	ca      *ca.CA
	td      string
	hosts   []string
	log     *slog.Logger
	tracker *tlsconfig.ConnTracker
	// notifier forwards revocations to NATS once the CA's connection is up.
	notifier *lateNotifier
	admin    *tlsconfig.Source
}

// lateNotifier is the CA's RevocationNotifier: the CA starts before the
// NATS server whose certificate it issues, so the publisher arrives later.
// Revocations before that reach in-process components through the CA's own
// set, and later subscribers through the CRL.
type lateNotifier struct {
	pub atomic.Pointer[revocation.Publisher]
}

func (n *lateNotifier) NotifyRevocation(ctx context.Context, e revocation.Entry) {
	if p := n.pub.Load(); p != nil {
		p.NotifyRevocation(ctx, e)
	}
}

// startPKI opens (or creates) the CA in DIR/ca and the administrator's
// credentials in DIR/admin.pem and DIR/admin-key.pem.
func (u *upRun) startPKI(ctx context.Context, trustDomain string, lifetime time.Duration, hosts []string) error {
	p := &upPKI{td: trustDomain, hosts: hosts, log: u.log, notifier: &lateNotifier{}}
	opts := []ca.Option{ca.WithTrustDomain(trustDomain), ca.WithLogger(u.log), ca.WithAuditSink(ca.SlogAudit(u.log)),
		ca.WithRevocationNotifier(p.notifier)}
	if lifetime > 0 {
		opts = append(opts, ca.WithLifetime(lifetime, 0))
	}
	c, err := ca.New(ctx, filepath.Join(u.dir, upCADir), opts...)
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	u.onStop(func() { _ = c.Close() })
	p.ca = c
	def, _ := c.Lifetimes()
	files := tlsconfig.Files{Cert: filepath.Join(u.dir, caAdminCert), Key: filepath.Join(u.dir, caAdminKey)}
	if _, err := ensureAdmin(ctx, c, files.Cert, files.Key, def); err != nil {
		return err
	}
	svid, err := x509svid.Load(files.Cert, files.Key)
	if err != nil {
		return fmt.Errorf("admin certificate: %w", err)
	}
	if p.admin, err = tlsconfig.NewSource(svid, c.Bundle()); err != nil {
		return err
	}
	// The admin files stay fresh while the platform runs, for the CLI.
	r, err := renewal.New(ctx, p.admin, &upIssuer{ca: c, src: p.admin}, renewal.WithFiles(files), renewal.WithLogger(u.log))
	if err != nil {
		return err
	}
	u.onStop(func() { _ = r.Close() })
	p.tracker = tlsconfig.NewConnTracker(c.Revocations(), tlsconfig.WithLogger(u.log))
	u.onStop(func() { _ = p.tracker.Close() })
	u.pki = p
	return nil
}

// identity issues a certificate for service and keeps it renewed (at two
// thirds of its lifetime, from the CA in-process) until shutdown.
func (u *upRun) identity(ctx context.Context, service string, profile ca.Profile) (*tlsconfig.Source, error) {
	p := u.pki
	key, err := keyfile.Generate(keyfile.ECDSAP256)
	if err != nil {
		return nil, err
	}
	req := ca.IssueRequest{PublicKey: key.Public(), Service: service, Profile: profile}
	if profile.AllowsHosts() {
		if req.DNSNames, req.IPAddresses, err = ca.ParseHosts(p.hosts); err != nil {
			return nil, err
		}
	}
	issued, err := p.ca.Issue(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("%s certificate: %w", service, err)
	}
	svid, err := x509svid.New(issued.Chain(), key)
	if err != nil {
		return nil, err
	}
	src, err := tlsconfig.NewSource(svid, p.ca.Bundle())
	if err != nil {
		return nil, err
	}
	r, err := renewal.New(ctx, src, &upIssuer{ca: p.ca, src: src}, renewal.WithLogger(u.log.With("identity", service)))
	if err != nil {
		return nil, err
	}
	u.onStop(func() { _ = r.Close() })
	// Servers staple their OCSP status, refreshed at half its validity and
	// on every renewal, so that clients need not ask the CA.
	st := tlsconfig.NewStapler(ctx, src, caStapler{p.ca.OCSPResponder()}, tlsconfig.WithLogger(u.log.With("identity", service)))
	u.onStop(func() { _ = st.Close() })
	return src, nil
}

// caStapler answers the stapler from the in-process CA's OCSP responder,
// the same signed responses the CA serves at /ocsp.
type caStapler struct{ r *ocspresponder.Responder }

func (f caStapler) FetchOCSP(ctx context.Context, leaf, _ *x509.Certificate) ([]byte, error) {
	return f.r.Sign(ctx, leaf.SerialNumber, nil)
}

// serverTLS is the configuration of every server of the platform: client
// certificates of the trust domain required, revoked serials refused at
// the handshake, and live connections of a revoked serial closed.
func (p *upPKI) serverTLS(src *tlsconfig.Source, extra ...tlsconfig.Option) *tls.Config {
	opts := append([]tlsconfig.Option{
		tlsconfig.WithAuthorizer(tlsconfig.AuthorizeMemberOf(p.td)),
		tlsconfig.WithRevocationChecker(p.ca.Revocations()),
		tlsconfig.WithLogger(p.log),
	}, extra...)
	return p.tracker.ServerConfig(tlsconfig.ServerConfig(src, opts...))
}

// clientTLS is the configuration of a component calling server: it
// presents src and accepts only that server's identity.
func (p *upPKI) clientTLS(src *tlsconfig.Source, server string) *tls.Config {
	return tlsconfig.ClientConfig(src,
		tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(p.td, server))),
		tlsconfig.WithRevocationChecker(p.ca.Revocations()),
		tlsconfig.WithLogger(p.log))
}

// natsOptions are the connection options of a component with identity
// service: its certificate, the NATS server's identity, and the inbox
// prefix its permissions allow.
func (p *upPKI) natsOptions(src *tlsconfig.Source, service string) []nats.Option {
	return []nats.Option{nats.Secure(p.clientTLS(src, upNATSService)), nats.CustomInboxPrefix(natsauth.InboxPrefix(service))}
}

// adminHTTP is the administrator's client for the PAP, used to push the
// example policies.
func (p *upPKI) adminHTTP(server string) *http.Client {
	return tlsconfig.HTTPClient(p.admin,
		tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(p.td, server))),
		tlsconfig.WithLogger(p.log))
}

// startCAServer serves the CA's REST API (CFSSL-shaped, OCSP, CRL) on addr
// and its CertificateAuthorityService (gRPC, gRPC-Web and Connect, as
// `verdict ca serve --rpc` does) on rpcAddr, both with the CA's own
// renewing certificate. Join, Redeem and OCSP need no client certificate;
// everything else is authorized by the caller's certificate, which must be
// of the trust domain and unrevoked.
func (u *upRun) startCAServer(ctx context.Context, addr, rpcAddr string) error {
	srv, err := caserver.New(ctx, u.pki.ca, caserver.WithAddr(addr), caserver.WithLogger(u.log), caserver.WithHosts(u.pki.hosts...))
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	u.onStop(func() { _ = srv.Close() })
	u.endpoints["ca"] = srv.URL()
	svc := caservice.New(u.pki.ca, caservice.WithLogger(u.log), caservice.WithEndpoints(srv.URL()+caapi.PathCRLDER, srv.URL()+caapi.PathOCSP))
	rs, err := svc.Listen(ctx, rpcAddr, srv.Source())
	if err != nil {
		return fmt.Errorf("ca-rpc: %w", err)
	}
	u.onStop(func() { _ = rs.Close() })
	u.endpoints["ca-rpc"] = "https://" + rs.Addr().String()
	return nil
}

// publishRevocations connects the CA to NATS, so that every revocation is
// announced to the relying parties outside this process (SDK PDPs).
func (u *upRun) publishRevocations(ctx context.Context, natsURL string) error {
	src, err := u.identity(ctx, natsauth.ServiceCA, ca.ProfileClient)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(natsURL, append(u.pki.natsOptions(src, natsauth.ServiceCA), nats.Name("verdict-ca"), nats.MaxReconnects(-1))...)
	if err != nil {
		return fmt.Errorf("ca: nats: %w", err)
	}
	u.onStop(nc.Close)
	u.pki.notifier.pub.Store(revocation.NewPublisher(nc, revocation.WithNATSLogger(u.log)))
	return nil
}

// upIssuer renews a component's certificate from the CA in-process, as the
// CA's renew endpoint would: the current certificate (which must be on
// record and unrevoked) is the authorization, and the successor keeps its
// identity, profile and names.
type upIssuer struct {
	ca  *ca.CA
	src *tlsconfig.Source
}

// Renew implements renewal.Issuer.
func (i *upIssuer) Renew(ctx context.Context, csrDER []byte) ([]*x509.Certificate, *x509bundle.Bundle, error) {
	issued, err := i.ca.Renew(ctx, i.src.SVID().Certificates, csrDER)
	if err != nil {
		return nil, nil, err
	}
	return issued.Chain(), i.ca.Bundle(), nil
}

// certHosts are the names a server certificate of the platform carries:
// the loopback names plus the hosts of the listen addresses.
func certHosts(addrs ...string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	seen := map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true}
	for _, a := range addrs {
		h, _, err := net.SplitHostPort(a)
		if err != nil || h == "" || seen[h] {
			continue
		}
		if ip := net.ParseIP(h); ip != nil && ip.IsUnspecified() {
			continue
		}
		seen[h] = true
		hosts = append(hosts, h)
	}
	return hosts
}
