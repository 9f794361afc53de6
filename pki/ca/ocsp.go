package ca

import (
	"context"
	"errors"
	"math/big"

	"golang.org/x/crypto/ocsp"

	"github.com/verdict-authz/verdict/pki/ocspresponder"
	"github.com/verdict-authz/verdict/pki/spiffeid"
	"github.com/verdict-authz/verdict/pki/store"
)

// OCSPStatus implements ocspresponder.Source: revoked serials are answered
// from the in-memory set, others from the store (good if on record, unknown
// otherwise).
func (c *CA) OCSPStatus(ctx context.Context, serial *big.Int) (ocspresponder.Status, error) {
	if e, ok := c.revoked.Lookup(serial); ok {
		return ocspresponder.Status{State: ocsp.Revoked, RevokedAt: e.RevokedAt, Reason: e.Reason}, nil
	}
	rec, err := c.store.Certificate(ctx, serial)
	if errors.Is(err, store.ErrNotFound) {
		return ocspresponder.Status{State: ocsp.Unknown}, nil
	}
	if err != nil {
		return ocspresponder.Status{}, err
	}
	if rec.Status == store.StatusRevoked {
		return ocspresponder.Status{State: ocsp.Revoked, RevokedAt: rec.RevokedAt, Reason: rec.RevocationReason}, nil
	}
	return ocspresponder.Status{State: ocsp.Good}, nil
}

// OCSPSignRequest asks for a signed OCSP response for a serial (CFSSL
// "ocspsign"). Unlike CFSSL the status is never taken from the caller: the
// response always states what the CA knows, so the endpoint cannot be used to
// vouch for a revoked certificate.
type OCSPSignRequest struct {
	Caller spiffeid.ID
	Serial *big.Int
	Nonce  []byte
}

// OCSPSign returns a DER OCSP response for req.Serial if the Authorizer
// allows the caller.
func (c *CA) OCSPSign(ctx context.Context, req OCSPSignRequest) ([]byte, error) {
	if err := c.authorize(ctx, AuthzRequest{Caller: req.Caller, Action: ActionOCSPSign, Serial: req.Serial}); err != nil {
		return nil, err
	}
	return c.ocsp.Sign(ctx, req.Serial, req.Nonce)
}
