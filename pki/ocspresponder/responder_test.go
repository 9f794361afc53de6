package ocspresponder_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/verdict-authz/verdict/pki/keyfile"
	"github.com/verdict-authz/verdict/pki/ocspresponder"
)

type issuer struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newIssuer(t testing.TB, alg keyfile.Algorithm) issuer {
	t.Helper()
	key, err := keyfile.Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA " + string(alg)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true, IsCA: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return issuer{c, key}
}

func (i issuer) leaf(t testing.TB, serial int64) *x509.Certificate {
	t.Helper()
	key, _ := keyfile.Generate(keyfile.ECDSAP256)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, i.cert, key.Public(), i.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// statuses is a Source backed by a map; serial 666 fails.
type statuses map[int64]ocspresponder.Status

func (s statuses) OCSPStatus(_ context.Context, serial *big.Int) (ocspresponder.Status, error) {
	if serial.Int64() == 666 {
		return ocspresponder.Status{}, errors.New("database down")
	}
	if st, ok := s[serial.Int64()]; ok {
		return st, nil
	}
	return ocspresponder.Status{State: ocsp.Unknown}, nil
}

var revokedAt = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

func newResponder(t testing.TB, iss issuer) *ocspresponder.Responder {
	t.Helper()
	r, err := ocspresponder.New(iss.cert, iss.key, statuses{
		1: {State: ocsp.Good},
		2: {State: ocsp.Revoked, RevokedAt: revokedAt, Reason: ocsp.KeyCompromise},
	}, ocspresponder.WithValidity(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestStatusesAndAlgorithms(t *testing.T) {
	iss := newIssuer(t, keyfile.Ed25519)
	if _, err := ocspresponder.New(iss.cert, iss.key, statuses{}); err == nil {
		t.Fatal("Ed25519 issuer accepted; OCSP clients could not verify its responses")
	}
	for _, alg := range []keyfile.Algorithm{keyfile.ECDSAP256, keyfile.ECDSAP384, keyfile.RSA2048} {
		t.Run(string(alg), func(t *testing.T) {
			iss := newIssuer(t, alg)
			r := newResponder(t, iss)
			for serial, want := range map[int64]int{1: ocsp.Good, 2: ocsp.Revoked, 3: ocsp.Unknown} {
				leaf := iss.leaf(t, serial)
				req, err := ocsp.CreateRequest(leaf, iss.cert, &ocsp.RequestOptions{Hash: crypto.SHA1})
				if err != nil {
					t.Fatal(err)
				}
				der, err := r.Respond(t.Context(), req)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := ocsp.ParseResponseForCert(der, leaf, iss.cert)
				if err != nil {
					t.Fatalf("serial %d: %v", serial, err)
				}
				if resp.Status != want || resp.NextUpdate.Sub(resp.ThisUpdate) != 5*time.Minute {
					t.Fatalf("serial %d: status %d validity %s", serial, resp.Status, resp.NextUpdate.Sub(resp.ThisUpdate))
				}
				if want == ocsp.Revoked && (!resp.RevokedAt.Equal(revokedAt) || resp.RevocationReason != ocsp.KeyCompromise) {
					t.Fatalf("revoked details: %v %d", resp.RevokedAt, resp.RevocationReason)
				}
			}
		})
	}
}

func TestNonce(t *testing.T) {
	iss := newIssuer(t, keyfile.ECDSAP256)
	r := newResponder(t, iss)
	leaf := iss.leaf(t, 1)
	nonce, err := ocspresponder.NewNonce()
	if err != nil {
		t.Fatal(err)
	}
	req, err := ocspresponder.CreateRequest(leaf, iss.cert, nonce)
	if err != nil {
		t.Fatal(err)
	}
	der, err := r.Respond(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ocsp.ParseResponseForCert(der, leaf, iss.cert); err != nil {
		t.Fatalf("x/crypto cannot parse a nonced response: %v", err)
	}
	got, err := ocspresponder.ResponseNonce(der)
	if err != nil || !bytes.Equal(got, nonce) {
		t.Fatalf("nonce = %x (%v), want %x", got, err, nonce)
	}
	// No nonce asked, none given; oversized nonces are not echoed.
	for _, n := range [][]byte{nil, bytes.Repeat([]byte{1}, 33)} {
		req, _ := ocspresponder.CreateRequest(leaf, iss.cert, n)
		der, err := r.Respond(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := ocspresponder.ResponseNonce(der); got != nil {
			t.Fatalf("nonce %x echoed for request nonce of %d bytes", got, len(n))
		}
	}
	if _, err := r.Sign(t.Context(), leaf.SerialNumber, bytes.Repeat([]byte{1}, 33)); err == nil {
		t.Fatal("Sign accepted an oversized nonce")
	}
}

func TestErrorResponses(t *testing.T) {
	iss := newIssuer(t, keyfile.ECDSAP256)
	r := newResponder(t, iss)
	if der, err := r.Respond(t.Context(), []byte("junk")); !errors.Is(err, ocspresponder.ErrMalformed) || !bytes.Equal(der, ocsp.MalformedRequestErrorResponse) {
		t.Fatalf("junk: %x %v", der, err)
	}
	other := newIssuer(t, keyfile.ECDSAP256)
	req, _ := ocsp.CreateRequest(other.leaf(t, 1), other.cert, nil)
	if der, err := r.Respond(t.Context(), req); !errors.Is(err, ocspresponder.ErrUnauthorized) || !bytes.Equal(der, ocsp.UnauthorizedErrorResponse) {
		t.Fatalf("other issuer: %x %v", der, err)
	}
	req, _ = ocsp.CreateRequest(iss.leaf(t, 666), iss.cert, nil)
	if der, err := r.Respond(t.Context(), req); err == nil || !bytes.Equal(der, ocsp.InternalErrorErrorResponse) {
		t.Fatalf("source failure: %x %v", der, err)
	}
}

func TestHTTP(t *testing.T) {
	iss := newIssuer(t, keyfile.ECDSAP256)
	r := newResponder(t, iss)
	srv := httptest.NewServer(r)
	defer srv.Close()
	leaf := iss.leaf(t, 2)
	check := func(resp *http.Response, wantCache bool) {
		t.Helper()
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/ocsp-response" {
			t.Fatalf("HTTP %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		got, err := ocsp.ParseResponseForCert(body, leaf, iss.cert)
		if err != nil || got.Status != ocsp.Revoked {
			t.Fatalf("response %+v %v", got, err)
		}
		if cached := strings.Contains(resp.Header.Get("Cache-Control"), "max-age=300"); cached != wantCache {
			t.Fatalf("Cache-Control %q, want cacheable=%v", resp.Header.Get("Cache-Control"), wantCache)
		}
	}
	// Find a nonce whose base64 request contains "//", which a path-cleaning
	// router would mangle.
	var slashy []byte
	for i := 0; i < 20000 && slashy == nil; i++ {
		n, _ := ocspresponder.NewNonce()
		req, _ := ocspresponder.CreateRequest(leaf, iss.cert, n)
		if strings.Contains(base64.StdEncoding.EncodeToString(req), "//") {
			slashy = req
		}
	}
	if slashy == nil {
		t.Fatal("could not build a request with // in its base64 form")
	}
	plain, _ := ocsp.CreateRequest(leaf, iss.cert, nil)
	for _, tc := range []struct {
		path      string
		cacheable bool
	}{
		{"/ocsp/" + base64.StdEncoding.EncodeToString(plain), true},
		{"/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(plain)), true},
		{"/ocsp/" + base64.RawURLEncoding.EncodeToString(plain), true},
		{"/ocsp/" + base64.StdEncoding.EncodeToString(slashy), false},
	} {
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		check(resp, tc.cacheable)
	}
	resp, err := http.Post(srv.URL+"/ocsp", "application/ocsp-request", bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	check(resp, false)
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/ocsp", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/ocsp/!!!notbase64")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, ocsp.MalformedRequestErrorResponse) {
		t.Fatalf("bad base64: %x", body)
	}
}

func BenchmarkRespond(b *testing.B) {
	iss := newIssuer(b, keyfile.ECDSAP256)
	r := newResponder(b, iss)
	req, _ := ocsp.CreateRequest(iss.leaf(b, 1), iss.cert, nil)
	ctx := context.Background()
	for b.Loop() {
		if _, err := r.Respond(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
