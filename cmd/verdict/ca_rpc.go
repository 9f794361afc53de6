package main

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caapi"
	"github.com/verdict-authz/verdict/pki/caclient"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/tlsconfig"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
	"github.com/verdict-authz/verdict/proto/verdict/v1/verdictv1connect"
)

// caAdmin is what the administrator commands need from a CA, over either
// of its APIs: the CFSSL-shaped REST API (caclient.Client, the default) or
// CertificateAuthorityService over Connect (--rpc).
type caAdmin interface {
	CreateJoinToken(ctx context.Context, req caapi.JoinTokenRequest) (caapi.JoinTokenResult, error)
	Revoke(ctx context.Context, serial *big.Int, reason string) error
	Info(ctx context.Context) (*caapi.InfoResult, error)
	URL() string
}

var _ caAdmin = (*caclient.Client)(nil)

// rpcCA is a caAdmin over CertificateAuthorityService (the `ca-rpc`
// endpoint of `verdict up`, or `verdict ca serve --rpc`), with the
// administrator's certificate and the CA's expected identity.
type rpcCA struct {
	url string
	// joinURL is the REST API's URL (the ca endpoint), where `verdict ca
	// bootstrap` redeems tokens; "" when not known.
	joinURL string
	td      string
	client  verdictv1connect.CertificateAuthorityServiceClient
}

func newRPCCA(url, joinURL string, src *tlsconfig.Source, opts ...tlsconfig.Option) (*rpcCA, error) {
	if !strings.HasPrefix(url, "https://") {
		return nil, fmt.Errorf("the CA's RPC endpoint %q is not https://", url)
	}
	own := src.SVID().ID
	if own.IsZero() {
		return nil, errors.New("admin credentials: the certificate has no spiffe:// identity")
	}
	hc := tlsconfig.HTTPClient(src, append(opts,
		tlsconfig.WithAuthorizer(tlsconfig.AuthorizeIDs(spiffeid.Must(own.TrustDomain(), caapi.ServiceName))))...)
	return &rpcCA{url: url, joinURL: joinURL, td: own.TrustDomain(), client: verdictv1connect.NewCertificateAuthorityServiceClient(hc, url)}, nil
}

// URL implements caAdmin.
func (r *rpcCA) URL() string { return r.url }

// joinURLOf is where tokens of c are redeemed: the REST API, which
// `verdict ca bootstrap` speaks (the RPC URL when that is unknown).
func joinURLOf(c caAdmin) string {
	if r, ok := c.(*rpcCA); ok && r.joinURL != "" {
		return r.joinURL
	}
	return c.URL()
}

// CreateJoinToken implements caAdmin. The RPC API has no hosts and no
// certificate lifetime on tokens: asking for them is refused rather than
// silently dropped.
func (r *rpcCA) CreateJoinToken(ctx context.Context, req caapi.JoinTokenRequest) (caapi.JoinTokenResult, error) {
	if len(req.Hosts) > 0 || req.Lifetime != "" {
		return caapi.JoinTokenResult{}, fmt.Errorf("%w: --host and --lifetime are only in the REST API (drop --rpc)", errRPCUnsupported)
	}
	profile, err := ca.ParseProfile(req.Profile, ca.ProfilePeer)
	if err != nil {
		return caapi.JoinTokenResult{}, fmt.Errorf("%w: %w", errRPCUnsupported, err)
	}
	preq := &verdictv1.CreateJoinTokenRequest{Service: req.Service, Profile: rpcProfile(profile)}
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil {
			return caapi.JoinTokenResult{}, err
		}
		preq.Ttl = durationpb.New(d)
	}
	resp, err := r.client.CreateJoinToken(ctx, connect.NewRequest(preq))
	if err != nil {
		return caapi.JoinTokenResult{}, err
	}
	id, err := spiffeid.New(r.td, req.Service)
	if err != nil {
		return caapi.JoinTokenResult{}, err
	}
	return caapi.JoinTokenResult{Token: resp.Msg.GetToken(), Identity: id.String(), Profile: string(profile),
		ExpiresAt: resp.Msg.GetExpireTime().AsTime()}, nil
}

// Revoke implements caAdmin.
func (r *rpcCA) Revoke(ctx context.Context, serial *big.Int, reason string) error {
	code := 0
	if reason != "" {
		var err error
		if code, err = ca.ParseReason(reason); err != nil {
			return fmt.Errorf("%w: %w", errRPCUnsupported, err)
		}
	}
	_, err := r.client.Revoke(ctx, connect.NewRequest(&verdictv1.RevokeRequest{SerialNumber: serial.String(),
		Reason: verdictv1.RevocationReason(code)}))
	return err
}

// Info implements caAdmin, in the REST API's shape.
func (r *rpcCA) Info(ctx context.Context) (*caapi.InfoResult, error) {
	resp, err := r.client.Info(ctx, connect.NewRequest(&verdictv1.InfoRequest{}))
	if err != nil {
		return nil, err
	}
	m := resp.Msg
	issuer := m.GetRootCertificatePem()
	if chain := m.GetIssuerChainPem(); len(chain) > 0 {
		issuer = chain[0]
	}
	res := &caapi.InfoResult{Certificate: issuer, TrustBundle: m.GetRootCertificatePem(), TrustDomain: m.GetTrustDomain(),
		Fingerprint: m.GetRootFingerprintSha256(), Profiles: map[string]caapi.ProfileInfo{}}
	for _, p := range m.GetProfiles() {
		name := strings.ToLower(strings.TrimPrefix(p.GetProfile().String(), "CERTIFICATE_PROFILE_"))
		res.Profiles[name] = caapi.ProfileInfo{Usages: append(append([]string{}, p.GetKeyUsages()...), p.GetExtKeyUsages()...),
			Expiry: p.GetDefaultTtl().AsDuration().String()}
	}
	if res.Expiry == "" && len(m.GetProfiles()) > 0 {
		res.Expiry = m.GetProfiles()[0].GetDefaultTtl().AsDuration().String()
	}
	return res, nil
}

// errRPCUnsupported marks a request the command refuses before calling the
// CA (exit 2, as a refused request).
var errRPCUnsupported = errors.New("not supported over the RPC API")

func rpcProfile(p ca.Profile) verdictv1.CertificateProfile {
	switch p {
	case ca.ProfileServer:
		return verdictv1.CertificateProfile_CERTIFICATE_PROFILE_SERVER
	case ca.ProfileClient:
		return verdictv1.CertificateProfile_CERTIFICATE_PROFILE_CLIENT
	}
	return verdictv1.CertificateProfile_CERTIFICATE_PROFILE_PEER
}
