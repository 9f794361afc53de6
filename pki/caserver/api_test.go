package caserver_test

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/caapi"
	"github.com/verdict-authz/verdict/pki/caclient"
	"github.com/verdict-authz/verdict/pki/caserver"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/x509bundle"
)

func TestInfoWithoutCertificate(t *testing.T) {
	f := newFixture(t)
	anon, err := caclient.New(f.srv.URL(), caclient.WithBundle(f.ca.Bundle()))
	if err != nil {
		t.Fatal(err)
	}
	info, err := anon.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.TrustDomain != td || info.Fingerprint != f.srv.Fingerprint().String() || !strings.Contains(info.Certificate, "BEGIN CERTIFICATE") {
		t.Fatalf("info = %+v", info)
	}
	if len(info.Profiles) != 3 {
		t.Fatalf("profiles = %v", info.Profiles)
	}
}

func TestSignNewCertRevokeAsAdmin(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	got, err := f.admin.Sign(ctx, caapi.SignRequest{
		CertificateRequest: caclient.EncodeCSR(newCSR(t, newKey(t), "orders", "orders.internal")),
		Profile:            "server", Lifetime: "2h",
	})
	if err != nil {
		t.Fatal(err)
	}
	leaf := got.Chain[0]
	if got.ID != spiffeid.Must(td, "orders") || leaf.DNSNames[0] != "orders.internal" || leaf.NotAfter.Sub(f.clock.Now()) != 2*time.Hour {
		t.Fatalf("signed %v %v %v", got.ID, leaf.DNSNames, leaf.NotAfter)
	}
	if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Fatalf("EKU = %v", leaf.ExtKeyUsage)
	}

	svid, bundle, err := f.admin.NewCert(ctx, caapi.NewCertRequest{
		Request: caapi.CertificateSubject{CN: "cli", Key: &caapi.KeyRequest{Algo: "ecdsa", Size: 256}}, Profile: "client",
	})
	if err != nil {
		t.Fatal(err)
	}
	if svid.ID.Service() != "cli" || !bundle.Contains(f.ca.Root()) {
		t.Fatalf("newcert: %v", svid.ID)
	}

	if err := f.admin.Revoke(ctx, leaf.SerialNumber, "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	if err := f.admin.Revoke(ctx, leaf.SerialNumber, ""); !errors.Is(err, caclient.ErrConflict) {
		t.Fatalf("second revoke: %v", err)
	}
	if err := f.admin.Revoke(ctx, new(big.Int).Lsh(leaf.SerialNumber, 3), ""); !errors.Is(err, caclient.ErrNotFound) {
		t.Fatalf("unknown serial: %v", err)
	}
	if _, err := f.admin.Sign(ctx, caapi.SignRequest{CertificateRequest: "garbage"}); !errors.Is(err, caclient.ErrBadRequest) {
		t.Fatalf("garbage CSR: %v", err)
	}
}

func TestNonAdminRefused(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	service := f.clientFor(t, f.issue(t, "orders", ca.ProfilePeer, 0))
	csr := caclient.EncodeCSR(newCSR(t, newKey(t), "orders"))
	if _, err := service.Sign(ctx, caapi.SignRequest{CertificateRequest: csr}); !errors.Is(err, caclient.ErrForbidden) {
		t.Fatalf("service sign: %v", err)
	}
	if _, err := service.CreateJoinToken(ctx, caapi.JoinTokenRequest{Service: "x"}); !errors.Is(err, caclient.ErrForbidden) {
		t.Fatalf("service join token: %v", err)
	}
	anon, err := caclient.New(f.srv.URL(), caclient.WithBundle(f.ca.Bundle()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Sign(ctx, caapi.SignRequest{CertificateRequest: csr}); !errors.Is(err, caclient.ErrForbidden) {
		t.Fatalf("anonymous sign: %v", err)
	}
	if _, _, err := anon.Renew(ctx, newCSR(t, newKey(t), "x")); !errors.Is(err, caclient.ErrUnauthenticated) {
		t.Fatalf("anonymous renew: %v", err)
	}
}

// TestResponseEnvelope checks the CFSSL envelope on success and failure.
func TestResponseEnvelope(t *testing.T) {
	f := newFixture(t)
	anon, err := caclient.New(f.srv.URL(), caclient.WithBundle(f.ca.Bundle()))
	if err != nil {
		t.Fatal(err)
	}
	post := func(path, body string) (int, map[string]json.RawMessage) {
		resp, err := anon.HTTPClient().Post(f.srv.URL()+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env map[string]json.RawMessage
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, env
	}
	status, env := post(caapi.PathInfo, `{"label":"","profile":""}`)
	if status != 200 || string(env["success"]) != "true" || string(env["errors"]) != "[]" || string(env["messages"]) != "[]" {
		t.Fatalf("info envelope: %d %s", status, env)
	}
	status, env = post(caapi.PathJoin, `{"token":"vjt_nope","certificate_request":"x"}`)
	if status != 400 || string(env["success"]) != "false" || !strings.Contains(string(env["errors"]), `"code":400`) {
		t.Fatalf("bad join envelope: %d %s", status, env)
	}
	resp, err := anon.HTTPClient().Get(f.srv.URL() + caapi.PathSign)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET sign: %d", resp.StatusCode)
	}
}

// TestRevocationEverywhere: after a revocation through the API, OCSP (GET
// and POST, with nonce) says revoked, the CRL lists it, and the CA server's
// own TLS refuses the certificate.
func TestRevocationEverywhere(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	victim := f.issue(t, "orders", ca.ProfilePeer, 0)
	victimClient := f.clientFor(t, victim)
	if _, _, err := victimClient.Renew(ctx, newCSR(t, newKey(t), "orders")); err != nil {
		t.Fatalf("renew before revocation: %v", err)
	}
	leaf := victim.Leaf()
	anon, err := caclient.New(f.srv.URL(), caclient.WithBundle(f.ca.Bundle()))
	if err != nil {
		t.Fatal(err)
	}
	ocspStatus := func(method string) (*ocsp.Response, []byte) {
		t.Helper()
		nonce := []byte("0123456789abcdef0123456789abcdef")
		der, err := ocspCreateRequest(leaf, f.ca.Issuer(), nonce)
		if err != nil {
			t.Fatal(err)
		}
		body := ocspDo(t, anon.HTTPClient(), f.srv.URL(), method, der)
		resp, err := ocsp.ParseResponseForCert(body, leaf, f.ca.Issuer())
		if err != nil {
			t.Fatal(err)
		}
		got, err := ocspResponseNonce(body)
		if err != nil || !bytes.Equal(got, nonce) {
			t.Fatalf("%s: nonce = %x (%v), want echo", method, got, err)
		}
		return resp, body
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if r, _ := ocspStatus(m); r.Status != ocsp.Good {
			t.Fatalf("%s before revocation: status %d", m, r.Status)
		}
	}
	if err := f.admin.Revoke(ctx, leaf.SerialNumber, "keyCompromise"); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if r, _ := ocspStatus(m); r.Status != ocsp.Revoked || r.RevocationReason != ocsp.KeyCompromise {
			t.Fatalf("%s after revocation: %+v", m, r)
		}
	}
	// CRL, both as DER at /crl and through the JSON API.
	resp, err := anon.HTTPClient().Get(f.srv.URL() + caapi.PathCRLDER)
	if err != nil {
		t.Fatal(err)
	}
	der := readAll(t, resp)
	if ct := resp.Header.Get("Content-Type"); ct != "application/pkix-crl" {
		t.Fatalf("CRL content type %q", ct)
	}
	for _, d := range [][]byte{der, mustCRL(t, anon)} {
		list, err := x509.ParseRevocationList(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := list.CheckSignatureFrom(f.ca.Issuer()); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range list.RevokedCertificateEntries {
			found = found || e.SerialNumber.Cmp(leaf.SerialNumber) == 0
		}
		if !found {
			t.Fatal("revoked serial not in CRL")
		}
	}
	// The CA's own TLS refuses the revoked certificate.
	if _, _, err := victimClient.Renew(ctx, newCSR(t, newKey(t), "orders")); err == nil {
		t.Fatal("revoked certificate renewed")
	}
	// ocspsign as admin, and the refusal to sign a status the CA does not hold.
	signed, err := f.admin.OCSPSign(ctx, leaf)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := ocsp.ParseResponseForCert(signed, leaf, f.ca.Issuer()); err != nil || r.Status != ocsp.Revoked {
		t.Fatalf("ocspsign: %+v %v", r, err)
	}
	var res caapi.OCSPSignResult
	body, _ := json.Marshal(caapi.OCSPSignRequest{Certificate: string(pemOf(leaf)), Status: "good"})
	r2, err := f.admin.HTTPClient().Post(f.srv.URL()+caapi.PathOCSPSign, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if r2.StatusCode != http.StatusBadRequest {
		t.Fatalf("ocspsign with a false status: HTTP %d", r2.StatusCode)
	}
	_ = json.NewDecoder(r2.Body).Decode(&res)
	r2.Body.Close()
}

func TestOCSPUnknownAndForeign(t *testing.T) {
	f := newFixture(t)
	other := newFixture(t)
	foreign := other.issue(t, "x", ca.ProfilePeer, 0).Leaf()
	anon, err := caclient.New(f.srv.URL(), caclient.WithBundle(f.ca.Bundle()))
	if err != nil {
		t.Fatal(err)
	}
	// A serial we never issued, asked about with our issuer: unknown.
	req, err := ocspCreateRequestSerial(foreign.SerialNumber, f.ca.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	body := ocspDo(t, anon.HTTPClient(), f.srv.URL(), http.MethodPost, req)
	r, err := ocsp.ParseResponse(body, f.ca.Issuer())
	if err != nil || r.Status != ocsp.Unknown {
		t.Fatalf("unknown serial: %+v %v", r, err)
	}
	// Asked about another issuer: unauthorized.
	req, err = ocsp.CreateRequest(foreign, other.ca.Issuer(), nil)
	if err != nil {
		t.Fatal(err)
	}
	body = ocspDo(t, anon.HTTPClient(), f.srv.URL(), http.MethodPost, req)
	if _, err := ocsp.ParseResponse(body, nil); !errors.As(err, new(ocsp.ResponseError)) {
		t.Fatalf("foreign issuer: err = %v, want an OCSP error response", err)
	}
}

func TestFingerprintShown(t *testing.T) {
	f := newFixture(t)
	if f.srv.Fingerprint() != x509bundle.FingerprintOf(f.ca.Root()) {
		t.Fatal("fingerprint mismatch")
	}
	if err := f.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_ = caserver.ServiceName
}
