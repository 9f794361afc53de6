package caserver_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"testing"

	"github.com/verdict-authz/verdict/pki/caclient"
	"github.com/verdict-authz/verdict/pki/ocspresponder"
	"github.com/verdict-authz/verdict/pki/x509svid"
)

func ocspCreateRequest(cert, issuer *x509.Certificate, nonce []byte) ([]byte, error) {
	return ocspresponder.CreateRequest(cert, issuer, nonce)
}

func ocspCreateRequestSerial(serial *big.Int, issuer *x509.Certificate) ([]byte, error) {
	return ocspresponder.CreateRequest(&x509.Certificate{SerialNumber: serial}, issuer, nil)
}

func ocspResponseNonce(der []byte) ([]byte, error) { return ocspresponder.ResponseNonce(der) }

// ocspDo sends an OCSP request by GET (base64 in the path, unescaped, as
// many clients send it) or POST.
func ocspDo(t testing.TB, c *http.Client, base, method string, der []byte) []byte {
	t.Helper()
	var (
		resp *http.Response
		err  error
	)
	if method == http.MethodGet {
		resp, err = c.Get(base + "/ocsp/" + base64.StdEncoding.EncodeToString(der))
	} else {
		resp, err = c.Post(base+"/ocsp", "application/ocsp-request", bytes.NewReader(der))
	}
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		t.Fatalf("OCSP %s: HTTP %d %q", method, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return readAll(t, resp)
}

func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustCRL(t *testing.T, c *caclient.Client) []byte {
	t.Helper()
	der, err := c.CRL(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemOf(c *x509.Certificate) []byte { return x509svid.EncodeCertificates([]*x509.Certificate{c}) }
