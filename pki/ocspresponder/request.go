package ocspresponder

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/ocsp"
)

// MaxNonceLen is the longest nonce echoed back (RFC 8954 section 2.1).
const MaxNonceLen = 32

// ErrMalformed means a request could not be parsed.
var ErrMalformed = errors.New("ocspresponder: malformed request")

// Request is a parsed OCSP request for one certificate.
type Request struct {
	// Request holds the CertID fields as x/crypto parses them.
	ocsp.Request
	// Nonce is the request's nonce (RFC 8954), nil when absent or unusable.
	Nonce []byte

	certID certID
}

// ParseRequest reads a DER request. Only the first CertID is answered, as
// every common client sends one per request.
func ParseRequest(der []byte) (*Request, error) {
	base, err := ocsp.ParseRequest(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	var raw ocspRequest
	if _, err := asn1.Unmarshal(der, &raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	req := &Request{Request: *base, certID: raw.TBSRequest.RequestList[0].ReqCert}
	for _, ext := range raw.TBSRequest.RequestExtensions {
		if ext.Id.Equal(oidNonce) {
			req.Nonce = decodeNonce(ext.Value)
		}
	}
	return req, nil
}

// decodeNonce unwraps the nonce OCTET STRING. RFC 8954 nonces are an OCTET
// STRING inside extnValue; a few old clients put the bytes there raw, which is
// accepted too. Nonces outside 1..MaxNonceLen are not echoed (RFC 8954 allows
// answering without one).
func decodeNonce(v []byte) []byte {
	var inner []byte
	if rest, err := asn1.Unmarshal(v, &inner); err == nil && len(rest) == 0 {
		v = inner
	}
	if len(v) == 0 || len(v) > MaxNonceLen {
		return nil
	}
	return append([]byte(nil), v...)
}

// NewNonce returns a random 32-byte nonce for CreateRequest.
func NewNonce() ([]byte, error) {
	n := make([]byte, MaxNonceLen)
	if _, err := rand.Read(n); err != nil {
		return nil, err
	}
	return n, nil
}

// CreateRequest builds a DER request for cert, issued by issuer, carrying
// nonce when it is not nil. x/crypto's CreateRequest cannot add a nonce; a
// client that wants replay protection uses this one.
func CreateRequest(cert, issuer *x509.Certificate, nonce []byte) ([]byte, error) {
	id, err := newCertID(crypto.SHA256, issuer, cert.SerialNumber)
	if err != nil {
		return nil, err
	}
	tbs := tbsRequest{RequestList: []singleRequest{{ReqCert: id}}}
	if nonce != nil {
		v, err := asn1.Marshal(nonce)
		if err != nil {
			return nil, err
		}
		tbs.RequestExtensions = []pkix.Extension{{Id: oidNonce, Value: v}}
	}
	return asn1.Marshal(ocspRequest{TBSRequest: tbs})
}

// ResponseNonce returns the nonce found in a DER response's
// responseExtensions, which x/crypto's parser does not expose. Clients that
// sent a nonce compare it with this.
func ResponseNonce(der []byte) ([]byte, error) {
	var resp responseASN1
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		return nil, err
	}
	var basic basicResponse
	if _, err := asn1.Unmarshal(resp.Response.Response, &basic); err != nil {
		return nil, err
	}
	var data responseData
	if _, err := asn1.Unmarshal(basic.TBSResponseData.FullBytes, &data); err != nil {
		return nil, err
	}
	for _, ext := range data.ResponseExtensions {
		if ext.Id.Equal(oidNonce) {
			var n []byte
			if _, err := asn1.Unmarshal(ext.Value, &n); err != nil {
				return nil, err
			}
			return n, nil
		}
	}
	return nil, nil
}

// hashOIDs maps the CertID hash algorithms this responder answers for.
var hashOIDs = map[crypto.Hash]asn1.ObjectIdentifier{
	crypto.SHA1:   {1, 3, 14, 3, 2, 26},
	crypto.SHA256: {2, 16, 840, 1, 101, 3, 4, 2, 1},
	crypto.SHA384: {2, 16, 840, 1, 101, 3, 4, 2, 2},
	crypto.SHA512: {2, 16, 840, 1, 101, 3, 4, 2, 3},
}

// issuerHashes computes the CertID name and key hashes of issuer under h.
func issuerHashes(h crypto.Hash, issuer *x509.Certificate) (nameHash, keyHash []byte, err error) {
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, nil, err
	}
	if !h.Available() {
		return nil, nil, fmt.Errorf("ocspresponder: hash %v unavailable", h)
	}
	w := h.New()
	w.Write(issuer.RawSubject)
	nameHash = w.Sum(nil)
	w.Reset()
	w.Write(spki.PublicKey.RightAlign())
	return nameHash, w.Sum(nil), nil
}

func newCertID(h crypto.Hash, issuer *x509.Certificate, serial *big.Int) (certID, error) {
	name, key, err := issuerHashes(h, issuer)
	if err != nil {
		return certID{}, err
	}
	return certID{
		HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: hashOIDs[h], Parameters: asn1.NullRawValue},
		NameHash:      name,
		IssuerKeyHash: key,
		SerialNumber:  serial,
	}, nil
}
