package caservice

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	"github.com/verdict-authz/verdict/pki/x509svid"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// Service implements CertificateAuthorityService once; GRPC and Connect
// adapt it to each transport so both behave identically. It is safe for
// concurrent use and holds no resources of its own: closing the CA is the
// owner's business.
type Service struct {
	ca  *ca.CA
	cfg config
}

// New returns the service for c.
func New(c *ca.CA, opts ...Option) *Service {
	return &Service{ca: c, cfg: newConfig(opts)}
}

// peerKey carries the caller's verified certificate chain in a context.
type peerKey struct{}

// withPeer records the verified peer chain (leaf first) for the handlers.
func withPeer(ctx context.Context, chain []*x509.Certificate) context.Context {
	if len(chain) == 0 {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, chain)
}

func peerChain(ctx context.Context) []*x509.Certificate {
	chain, _ := ctx.Value(peerKey{}).([]*x509.Certificate)
	return chain
}

// caller is the authenticated identity; zero without a client certificate,
// which the Authorizer then refuses.
func caller(ctx context.Context) spiffeid.ID {
	chain := peerChain(ctx)
	if len(chain) == 0 {
		return spiffeid.ID{}
	}
	id, _ := spiffeid.FromCertificate(chain[0])
	return id
}

func (s *Service) sign(ctx context.Context, req *verdictv1.SignRequest) (*verdictv1.SignResponse, error) {
	csr, err := decodeCSR(req.GetCsrPem())
	if err != nil {
		return nil, err
	}
	profile, err := profileFromProto(req.GetProfile(), "")
	if err != nil {
		return nil, err
	}
	issued, err := s.ca.Sign(ctx, ca.SignRequest{
		Caller: caller(ctx), CSR: csr, Service: req.GetService(), Profile: profile,
		Hosts: req.GetHosts(), Lifetime: s.lifetime(req.GetTtl()),
	})
	if err != nil {
		return nil, err
	}
	return &verdictv1.SignResponse{Certificate: certificateToProto(issued)}, nil
}

func (s *Service) newCert(ctx context.Context, req *verdictv1.NewCertRequest) (*verdictv1.NewCertResponse, error) {
	profile, err := profileFromProto(req.GetProfile(), "")
	if err != nil {
		return nil, err
	}
	alg, err := algorithmFromProto(req.GetKeyAlgorithm())
	if err != nil {
		return nil, err
	}
	issued, key, err := s.ca.NewCert(ctx, ca.NewCertRequest{
		Caller: caller(ctx), Service: req.GetService(), Profile: profile, Hosts: req.GetHosts(),
		Lifetime: s.lifetime(req.GetTtl()), KeyAlgorithm: alg,
	})
	if err != nil {
		return nil, err
	}
	keyPEM, err := keyfile.Marshal(key)
	if err != nil {
		return nil, fmt.Errorf("caservice: %w", err)
	}
	return &verdictv1.NewCertResponse{Certificate: certificateToProto(issued), PrivateKeyPem: string(keyPEM)}, nil
}

func (s *Service) info(context.Context, *verdictv1.InfoRequest) (*verdictv1.InfoResponse, error) {
	def, maxTTL := s.ca.Lifetimes()
	res := &verdictv1.InfoResponse{
		RootCertificatePem:    string(x509svid.EncodeCertificates([]*x509.Certificate{s.ca.Root()})),
		RootFingerprintSha256: x509bundle.FingerprintOf(s.ca.Root()).String(),
		TrustDomain:           s.ca.TrustDomain(),
		CrlUrl:                s.cfg.crlURL,
		OcspUrl:               s.cfg.ocspURL,
	}
	for _, c := range s.ca.Intermediates() {
		res.IssuerChainPem = append(res.IssuerChainPem, string(x509svid.EncodeCertificates([]*x509.Certificate{c})))
	}
	for _, p := range ca.Profiles {
		pi := &verdictv1.ProfileInfo{
			Profile: profileToProto(p), KeyUsages: []string{"digital signature"},
			DefaultTtl: durationpb.New(def), MaxTtl: durationpb.New(maxTTL),
		}
		for _, u := range p.UsageNames() {
			if u != "digital signature" {
				pi.ExtKeyUsages = append(pi.ExtKeyUsages, u)
			}
		}
		res.Profiles = append(res.Profiles, pi)
	}
	return res, nil
}

func (s *Service) revoke(ctx context.Context, req *verdictv1.RevokeRequest) (*verdictv1.RevokeResponse, error) {
	serial, err := parseSerial(req.GetSerialNumber())
	if err != nil {
		return nil, err
	}
	already := false
	err = s.ca.Revoke(ctx, ca.RevokeRequest{Caller: caller(ctx), Serial: serial, Reason: int(req.GetReason())})
	switch {
	case errors.Is(err, ca.ErrAlreadyRevoked):
		already = true
	case err != nil:
		return nil, err
	}
	rec, err := s.ca.Store().Certificate(ctx, serial)
	if err != nil {
		return nil, fmt.Errorf("caservice: revoked serial %s: %w", serial, err)
	}
	return &verdictv1.RevokeResponse{RevokeTime: timestamppb.New(rec.RevokedAt), AlreadyRevoked: already}, nil
}

func (s *Service) crl(context.Context, *verdictv1.CRLRequest) (*verdictv1.CRLResponse, error) {
	crl := s.ca.CRL()
	return &verdictv1.CRLResponse{
		CrlDer: crl.DER, CrlNumber: crl.Number.Int64(),
		ThisUpdate: timestamppb.New(crl.ThisUpdate), NextUpdate: timestamppb.New(crl.NextUpdate),
	}, nil
}

func (s *Service) createJoinToken(ctx context.Context, req *verdictv1.CreateJoinTokenRequest) (*verdictv1.CreateJoinTokenResponse, error) {
	profile, err := profileFromProto(req.GetProfile(), ca.ProfilePeer)
	if err != nil {
		return nil, err
	}
	tok, err := s.ca.CreateJoinToken(ctx, ca.JoinTokenRequest{
		Caller: caller(ctx), Service: req.GetService(), Profile: profile, TTL: req.GetTtl().AsDuration(),
	})
	if err != nil {
		return nil, err
	}
	return &verdictv1.CreateJoinTokenResponse{
		Token: tok.Secret, TokenId: TokenID(tok.Secret), ExpireTime: timestamppb.New(tok.ExpiresAt),
		RootFingerprintSha256: x509bundle.FingerprintOf(s.ca.Root()).String(),
	}, nil
}

func (s *Service) redeem(ctx context.Context, req *verdictv1.RedeemRequest) (*verdictv1.RedeemResponse, error) {
	csr, err := decodeCSR(req.GetCsrPem())
	if err != nil {
		return nil, err
	}
	if len(req.GetHosts()) > 0 {
		// The token fixes the names; the CSR may ask for a subset. Hosts in
		// the request narrow it the same way, so they must match the CSR.
		if err := csrHasHosts(csr, req.GetHosts()); err != nil {
			return nil, err
		}
	}
	issued, err := s.ca.Redeem(ctx, req.GetToken(), csr)
	if err != nil {
		return nil, err
	}
	return &verdictv1.RedeemResponse{
		Certificate:        certificateToProto(issued),
		RootCertificatePem: string(x509svid.EncodeCertificates([]*x509.Certificate{s.ca.Root()})),
	}, nil
}

func (s *Service) renew(ctx context.Context, req *verdictv1.RenewRequest) (*verdictv1.RenewResponse, error) {
	chain := peerChain(ctx)
	if len(chain) == 0 {
		return nil, errNoClientCert
	}
	csr, err := decodeCSR(req.GetCsrPem())
	if err != nil {
		return nil, err
	}
	issued, err := s.ca.Renew(ctx, chain, csr)
	if err != nil {
		return nil, err
	}
	return &verdictv1.RenewResponse{Certificate: certificateToProto(issued)}, nil
}

// lifetime turns a requested TTL into the CA's lifetime, capping it at the
// CA's maximum as the API promises instead of refusing it.
func (s *Service) lifetime(ttl *durationpb.Duration) time.Duration {
	d := ttl.AsDuration()
	if _, maxTTL := s.ca.Lifetimes(); d > maxTTL {
		d = maxTTL
	}
	return d
}

// TokenID names a join token without revealing it: the first 16 hex digits
// of the SHA-256 the CA stores, so operators can match it to store rows and
// audit entries.
func TokenID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:8])
}

func decodeCSR(s string) ([]byte, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil || (block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST") {
		return nil, fmt.Errorf("%w: csr_pem must be a PEM CERTIFICATE REQUEST", ca.ErrInvalidCSR)
	}
	return block.Bytes, nil
}

// csrHasHosts checks that every requested host is in the CSR.
func csrHasHosts(csrDER []byte, hosts []string) error {
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return fmt.Errorf("%w: %w", ca.ErrInvalidCSR, err)
	}
	have := map[string]bool{}
	for _, d := range csr.DNSNames {
		have[strings.ToLower(d)] = true
	}
	for _, ip := range csr.IPAddresses {
		have[ip.String()] = true
	}
	dns, ips, err := ca.ParseHosts(hosts)
	if err != nil {
		return err
	}
	for _, d := range dns {
		if !have[strings.ToLower(d)] {
			return fmt.Errorf("%w: host %q is not in the CSR", ca.ErrInvalidCSR, d)
		}
	}
	for _, ip := range ips {
		if !have[ip.String()] {
			return fmt.Errorf("%w: host %q is not in the CSR", ca.ErrInvalidCSR, ip)
		}
	}
	return nil
}

// parseSerial reads a decimal serial, the form the API uses everywhere.
func parseSerial(s string) (*big.Int, error) {
	n, ok := new(big.Int).SetString(strings.TrimSpace(s), 10)
	if !ok || n.Sign() <= 0 {
		return nil, fmt.Errorf("%w: serial_number %q must be a positive decimal number", ca.ErrInvalidRequest, s)
	}
	return n, nil
}
