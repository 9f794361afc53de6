package ocspresponder

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"

	"golang.org/x/crypto/ocsp"
)

// ErrUnauthorized means a request names an issuer this responder does not
// answer for (RFC 6960 "unauthorized").
var ErrUnauthorized = errors.New("ocspresponder: request is for another issuer")

// Status is what a Source knows about a serial.
type Status struct {
	// State is ocsp.Good, ocsp.Revoked or ocsp.Unknown.
	State int
	// RevokedAt and Reason (RFC 5280 CRLReason) apply to ocsp.Revoked.
	RevokedAt time.Time
	Reason    int
}

// Source looks up the status of a serial issued by the responder's issuer.
// Unknown serials are reported as ocsp.Unknown, not as an error; an error
// means the status could not be determined (the responder answers
// internalError).
type Source interface {
	OCSPStatus(ctx context.Context, serial *big.Int) (Status, error)
}

// Responder signs OCSP responses for one issuer, directly with the issuer's
// key (no delegated responder certificate to rotate or revoke).
type Responder struct {
	issuer      *x509.Certificate
	signer      crypto.Signer
	source      Source
	sigAlg      pkix.AlgorithmIdentifier
	hash        crypto.Hash
	responderID asn1.RawValue
	hashes      map[crypto.Hash][2][]byte
	cfg         config
}

// New builds a responder. issuer is the certificate that signed the leaves
// being asked about; signer is its private key.
func New(issuer *x509.Certificate, signer crypto.Signer, source Source, opts ...Option) (*Responder, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if issuer == nil || signer == nil || source == nil {
		return nil, errors.New("ocspresponder: issuer, signer and source are required")
	}
	h, alg, err := signatureAlgorithm(signer.Public())
	if err != nil {
		return nil, err
	}
	r := &Responder{issuer: issuer, signer: signer, source: source, sigAlg: alg, hash: h, cfg: cfg,
		hashes: make(map[crypto.Hash][2][]byte)}
	for hh := range hashOIDs {
		name, key, err := issuerHashes(hh, issuer)
		if err != nil {
			return nil, err
		}
		r.hashes[hh] = [2][]byte{name, key}
	}
	// ResponderID byKey: SHA-1 of the issuer's public key (RFC 6960 4.2.1).
	byKey, err := asn1.Marshal(r.hashes[crypto.SHA1][1])
	if err != nil {
		return nil, err
	}
	r.responderID = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 2, IsCompound: true, Bytes: byKey}
	return r, nil
}

// Issuer returns the certificate whose leaves this responder answers for.
func (r *Responder) Issuer() *x509.Certificate { return r.issuer }

// Respond answers a DER request with a DER response. Protocol-level failures
// (malformed request, other issuer, lookup failure) still produce a DER
// response — the matching OCSP error status — together with a non-nil error
// for the caller's logs.
func (r *Responder) Respond(ctx context.Context, der []byte) ([]byte, error) {
	resp, _, err := r.respondDER(ctx, der)
	return resp, err
}

// respondDER is Respond that also reports whether the request carried a
// nonce, which makes the response uncacheable.
func (r *Responder) respondDER(ctx context.Context, der []byte) ([]byte, bool, error) {
	req, err := ParseRequest(der)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, false, err
	}
	names, ok := r.hashes[req.HashAlgorithm]
	if !ok || !bytes.Equal(names[0], req.IssuerNameHash) || !bytes.Equal(names[1], req.IssuerKeyHash) {
		return ocsp.UnauthorizedErrorResponse, false, fmt.Errorf("%w (serial %x)", ErrUnauthorized, req.SerialNumber)
	}
	resp, err := r.respond(ctx, req.certID, req.Nonce)
	if err != nil {
		return ocsp.InternalErrorErrorResponse, false, err
	}
	return resp, req.Nonce != nil, nil
}

// Sign produces a response for serial with its current status, using SHA-256
// CertID hashes. The CA's ocspsign API and local stapling use it.
func (r *Responder) Sign(ctx context.Context, serial *big.Int, nonce []byte) ([]byte, error) {
	if len(nonce) > MaxNonceLen {
		return nil, fmt.Errorf("ocspresponder: nonce longer than %d bytes", MaxNonceLen)
	}
	id, err := newCertID(crypto.SHA256, r.issuer, serial)
	if err != nil {
		return nil, err
	}
	return r.respond(ctx, id, nonce)
}

func (r *Responder) respond(ctx context.Context, id certID, nonce []byte) ([]byte, error) {
	st, err := r.source.OCSPStatus(ctx, id.SerialNumber)
	if err != nil {
		return nil, fmt.Errorf("ocspresponder: status of %x: %w", id.SerialNumber, err)
	}
	now := r.cfg.now().UTC().Truncate(time.Second)
	single := singleResponse{CertID: id, ThisUpdate: now, NextUpdate: now.Add(r.cfg.validity)}
	switch st.State {
	case ocsp.Good:
		single.Good = true
	case ocsp.Revoked:
		single.Revoked = revokedInfo{RevocationTime: st.RevokedAt.UTC().Truncate(time.Second), Reason: asn1.Enumerated(st.Reason)}
	default:
		single.Unknown = true
	}
	data := responseData{ResponderID: r.responderID, ProducedAt: now, Responses: []singleResponse{single}}
	if nonce != nil {
		v, err := asn1.Marshal(nonce)
		if err != nil {
			return nil, err
		}
		data.ResponseExtensions = []pkix.Extension{{Id: oidNonce, Value: v}}
	}
	tbs, err := asn1.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("ocspresponder: marshal: %w", err)
	}
	sig, err := r.sign(tbs)
	if err != nil {
		return nil, fmt.Errorf("ocspresponder: sign: %w", err)
	}
	basic, err := asn1.Marshal(basicResponse{
		TBSResponseData:    asn1.RawValue{FullBytes: tbs},
		SignatureAlgorithm: r.sigAlg,
		Signature:          asn1.BitString{Bytes: sig, BitLength: 8 * len(sig)},
	})
	if err != nil {
		return nil, fmt.Errorf("ocspresponder: marshal: %w", err)
	}
	if st.State != ocsp.Good && st.State != ocsp.Revoked {
		r.cfg.logger.DebugContext(ctx, "ocsp: unknown serial", "serial", fmt.Sprintf("%x", id.SerialNumber))
	}
	return asn1.Marshal(responseASN1{
		Status:   asn1.Enumerated(ocsp.Success),
		Response: responseBytes{ResponseType: oidResponseBasic, Response: basic},
	})
}

func (r *Responder) sign(tbs []byte) ([]byte, error) {
	h := r.hash.New()
	h.Write(tbs)
	return r.signer.Sign(rand.Reader, h.Sum(nil), r.hash)
}

// signatureAlgorithm picks the hash and AlgorithmIdentifier for the issuer key.
func signatureAlgorithm(pub crypto.PublicKey) (crypto.Hash, pkix.AlgorithmIdentifier, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return crypto.SHA256, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}}, nil
		case elliptic.P384():
			return crypto.SHA384, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}}, nil
		case elliptic.P521():
			return crypto.SHA512, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}}, nil
		}
	case *rsa.PublicKey:
		return crypto.SHA256, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}, Parameters: asn1.NullRawValue}, nil
	case ed25519.PublicKey:
		// Common OCSP clients (x/crypto/ocsp among them) cannot verify
		// Ed25519 response signatures, so such a responder would be useless.
		return 0, pkix.AlgorithmIdentifier{}, fmt.Errorf("ocspresponder: Ed25519 issuer keys are not supported by OCSP clients")
	}
	return 0, pkix.AlgorithmIdentifier{}, fmt.Errorf("ocspresponder: unsupported signer key %T", pub)
}
