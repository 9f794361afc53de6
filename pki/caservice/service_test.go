package caservice_test

import (
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caservice"
	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/x509bundle"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

func TestAdminLifecycle(t *testing.T) {
	f := newFixture(t)
	admin := f.clients(t, f.svid(t, "admin", ca.ProfileClient))
	anon := f.clients(t, nil)
	for name, c := range admin {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			info, err := c.Info(ctx, &verdictv1.InfoRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if want := x509bundle.FingerprintOf(f.ca.Root()).String(); info.GetRootFingerprintSha256() != want {
				t.Fatalf("fingerprint %q, want %q", info.GetRootFingerprintSha256(), want)
			}
			if info.GetTrustDomain() != td || info.GetCrlUrl() != "https://ca.example/crl" || len(info.GetProfiles()) != 3 {
				t.Fatalf("info = %v", info)
			}
			if !parseCert(t, info.GetRootCertificatePem()).Equal(f.ca.Root()) {
				t.Fatal("root certificate differs")
			}

			tok, err := c.CreateJoinToken(ctx, &verdictv1.CreateJoinTokenRequest{Service: "web", Ttl: durationpb.New(time.Minute)})
			if err != nil {
				t.Fatal(err)
			}
			if tok.GetTokenId() != caservice.TokenID(tok.GetToken()) || tok.GetRootFingerprintSha256() != info.GetRootFingerprintSha256() {
				t.Fatalf("token response = %v", tok)
			}
			if d := time.Until(tok.GetExpireTime().AsTime()); d <= 0 || d > time.Minute {
				t.Fatalf("token expires in %s", d)
			}
			key := newKey(t)
			red, err := anon[name].Redeem(ctx, &verdictv1.RedeemRequest{Token: tok.GetToken(), CsrPem: csrPEM(t, key)})
			if err != nil {
				t.Fatal(err)
			}
			if got := red.GetCertificate().GetSpiffeId(); got != "spiffe://"+td+"/service/web" {
				t.Fatalf("redeemed identity %q", got)
			}
			if red.GetCertificate().GetProfile() != verdictv1.CertificateProfile_CERTIFICATE_PROFILE_PEER {
				t.Fatalf("profile %v", red.GetCertificate().GetProfile())
			}
			if _, err := anon[name].Redeem(ctx, &verdictv1.RedeemRequest{Token: tok.GetToken(), CsrPem: csrPEM(t, key)}); codeOf(err) != connect.CodeUnauthenticated {
				t.Fatalf("second redemption: %v, want unauthenticated", err)
			}

			signed, err := c.Sign(ctx, &verdictv1.SignRequest{CsrPem: csrPEM(t, newKey(t)), Service: "api",
				Profile: verdictv1.CertificateProfile_CERTIFICATE_PROFILE_SERVER, Hosts: []string{"api.example"}})
			if err != nil {
				t.Fatal(err)
			}
			leaf := parseCert(t, signed.GetCertificate().GetCertificatePem())
			if leaf.SerialNumber.String() != signed.GetCertificate().GetSerialNumber() || len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "api.example" {
				t.Fatalf("signed leaf serial %s names %v", leaf.SerialNumber, leaf.DNSNames)
			}

			nc, err := c.NewCert(ctx, &verdictv1.NewCertRequest{Service: "batch", Profile: verdictv1.CertificateProfile_CERTIFICATE_PROFILE_CLIENT,
				KeyAlgorithm: verdictv1.KeyAlgorithm_KEY_ALGORITHM_ED25519, Ttl: durationpb.New(24 * time.Hour * 365)})
			if err != nil {
				t.Fatal(err)
			}
			gen, err := keyfile.Parse([]byte(nc.GetPrivateKeyPem()))
			if err != nil {
				t.Fatal(err)
			}
			ncLeaf := parseCert(t, nc.GetCertificate().GetCertificatePem())
			if !keyfile.MatchesPublic(gen, ncLeaf.PublicKey) {
				t.Fatal("NewCert key does not match its certificate")
			}
			if _, maxTTL := f.ca.Lifetimes(); ncLeaf.NotAfter.Sub(ncLeaf.NotBefore) > maxTTL+time.Hour {
				t.Fatalf("ttl not capped: %s", ncLeaf.NotAfter.Sub(ncLeaf.NotBefore))
			}

			rev, err := c.Revoke(ctx, &verdictv1.RevokeRequest{SerialNumber: signed.GetCertificate().GetSerialNumber(),
				Reason: verdictv1.RevocationReason_REVOCATION_REASON_KEY_COMPROMISE})
			if err != nil {
				t.Fatal(err)
			}
			if rev.GetAlreadyRevoked() || rev.GetRevokeTime().AsTime().IsZero() {
				t.Fatalf("revoke = %v", rev)
			}
			again, err := c.Revoke(ctx, &verdictv1.RevokeRequest{SerialNumber: signed.GetCertificate().GetSerialNumber()})
			if err != nil {
				t.Fatal(err)
			}
			if !again.GetAlreadyRevoked() || !again.GetRevokeTime().AsTime().Equal(rev.GetRevokeTime().AsTime()) {
				t.Fatalf("second revoke = %v, first %v", again, rev)
			}
			if _, ok := f.ca.Revocations().Lookup(leaf.SerialNumber); !ok {
				t.Fatal("revocation set lacks the serial")
			}

			crl, err := c.CRL(ctx, &verdictv1.CRLRequest{})
			if err != nil {
				t.Fatal(err)
			}
			list, err := x509.ParseRevocationList(crl.GetCrlDer())
			if err != nil {
				t.Fatal(err)
			}
			if err := list.CheckSignatureFrom(f.ca.Issuer()); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range list.RevokedCertificateEntries {
				if e.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
					found = e.ReasonCode == 1
				}
			}
			if !found || big.NewInt(crl.GetCrlNumber()).Cmp(list.Number) != 0 {
				t.Fatalf("CRL number %d entries %d: revoked serial with keyCompromise missing", crl.GetCrlNumber(), len(list.RevokedCertificateEntries))
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	admin := f.clients(t, f.svid(t, "admin", ca.ProfileClient))
	web := f.clients(t, f.svid(t, "web", ca.ProfilePeer))
	anon := f.clients(t, nil)
	for name := range admin {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			cases := []struct {
				what string
				err  error
				want connect.Code
			}{
				{"non-admin token", second(web[name].CreateJoinToken(ctx, &verdictv1.CreateJoinTokenRequest{Service: "web"})), connect.CodePermissionDenied},
				{"anonymous sign", second(anon[name].Sign(ctx, &verdictv1.SignRequest{CsrPem: csrPEM(t, newKey(t)), Service: "x",
					Profile: verdictv1.CertificateProfile_CERTIFICATE_PROFILE_PEER})), connect.CodePermissionDenied},
				{"non-admin revoke", second(web[name].Revoke(ctx, &verdictv1.RevokeRequest{SerialNumber: "12345"})), connect.CodePermissionDenied},
				{"admin token for admin", second(admin[name].CreateJoinToken(ctx, &verdictv1.CreateJoinTokenRequest{Service: "admin"})), connect.CodePermissionDenied},
				{"sign without profile", second(admin[name].Sign(ctx, &verdictv1.SignRequest{CsrPem: csrPEM(t, newKey(t)), Service: "x"})), connect.CodeInvalidArgument},
				{"sign garbage CSR", second(admin[name].Sign(ctx, &verdictv1.SignRequest{CsrPem: "nope", Service: "x",
					Profile: verdictv1.CertificateProfile_CERTIFICATE_PROFILE_PEER})), connect.CodeInvalidArgument},
				{"revoke unknown", second(admin[name].Revoke(ctx, &verdictv1.RevokeRequest{SerialNumber: "12345"})), connect.CodeNotFound},
				{"revoke hex", second(admin[name].Revoke(ctx, &verdictv1.RevokeRequest{SerialNumber: "0x1f"})), connect.CodeInvalidArgument},
				{"redeem bad token", second(anon[name].Redeem(ctx, &verdictv1.RedeemRequest{Token: "vjt_nope", CsrPem: csrPEM(t, newKey(t))})), connect.CodeUnauthenticated},
				{"redeem asks for hosts not in CSR", second(anon[name].Redeem(ctx, &verdictv1.RedeemRequest{Token: "vjt_nope", CsrPem: csrPEM(t, newKey(t), "a.example"),
					Hosts: []string{"b.example"}})), connect.CodeInvalidArgument},
				{"anonymous renew", second(anon[name].Renew(ctx, &verdictv1.RenewRequest{CsrPem: csrPEM(t, newKey(t))})), connect.CodeUnauthenticated},
			}
			for _, c := range cases {
				if got := codeOf(c.err); got != c.want {
					t.Errorf("%s: %v (code %s), want %s", c.what, c.err, got, c.want)
				}
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

func TestRenewKeepsIdentity(t *testing.T) {
	f := newFixture(t)
	current := f.svid(t, "web", ca.ProfilePeer)
	for name, c := range f.clients(t, current) {
		t.Run(name, func(t *testing.T) {
			key := newKey(t)
			got, err := c.Renew(t.Context(), &verdictv1.RenewRequest{CsrPem: csrPEM(t, key)})
			if err != nil {
				t.Fatal(err)
			}
			leaf := parseCert(t, got.GetCertificate().GetCertificatePem())
			if got.GetCertificate().GetSpiffeId() != "spiffe://"+td+"/service/web" || leaf.SerialNumber.Cmp(current.Leaf().SerialNumber) == 0 {
				t.Fatalf("renewed %s serial %s", got.GetCertificate().GetSpiffeId(), leaf.SerialNumber)
			}
			if !keyfile.MatchesPublic(key, leaf.PublicKey) {
				t.Fatal("renewed certificate is not for the CSR's key")
			}
		})
	}
}

// A revoked caller cannot even complete the handshake: the transport
// refuses it before the service sees the call.
func TestRevokedCallerRefused(t *testing.T) {
	f := newFixture(t)
	web := f.svid(t, "web", ca.ProfilePeer)
	if err := f.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: f.ca.Admins()[0], Serial: web.Leaf().SerialNumber}); err != nil {
		t.Fatal(err)
	}
	for name, c := range f.clients(t, web) {
		t.Run(name, func(t *testing.T) {
			_, err := c.Renew(t.Context(), &verdictv1.RenewRequest{CsrPem: csrPEM(t, newKey(t))})
			if err == nil {
				t.Fatal("revoked certificate renewed")
			}
			if got := codeOf(err); got != connect.CodeUnavailable && got != connect.CodeUnknown && got != connect.CodeUnauthenticated && got != connect.CodePermissionDenied {
				t.Fatalf("code %s: %v", got, err)
			}
		})
	}
}

// A connection established before its certificate is revoked is closed,
// and the client cannot come back with the same certificate.
func TestLiveConnectionClosedOnRevoke(t *testing.T) {
	f := newFixture(t)
	web := f.svid(t, "web", ca.ProfilePeer)
	c := f.clients(t, web)["listen-grpc"]
	if _, err := c.Renew(t.Context(), &verdictv1.RenewRequest{CsrPem: csrPEM(t, newKey(t))}); err != nil {
		t.Fatal(err)
	}
	if err := f.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: f.ca.Admins()[0], Serial: web.Leaf().SerialNumber}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := c.Info(t.Context(), &verdictv1.InfoRequest{})
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("revoked client still served")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
