package ca

import (
	"context"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"golang.org/x/crypto/ocsp"

	"github.com/verdict-authz/verdict/pki/revocation"
	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// RevokeRequest asks to revoke a certificate (CFSSL "revoke").
type RevokeRequest struct {
	Caller spiffeid.ID
	Serial *big.Int
	// Reason is an RFC 5280 CRLReason code (see ParseReason).
	Reason int
}

// RevocationNotifier learns of every revocation right after it is recorded,
// to push it to relying parties (a NATS publisher, for one). It must not
// block for long.
type RevocationNotifier interface {
	NotifyRevocation(ctx context.Context, e revocation.Entry)
}

// Revoke marks a certificate revoked if the Authorizer allows the caller.
// When it returns, the local revocation set, the OCSP status and the CRL
// already reflect it, and the notifier has been called.
func (c *CA) Revoke(ctx context.Context, req RevokeRequest) error {
	if req.Serial == nil || req.Serial.Sign() <= 0 {
		err := fmt.Errorf("%w: serial required", ErrInvalidRequest)
		c.auditFailure(ctx, ActionRevoke, req.Caller, spiffeid.ID{}, "", err)
		return err
	}
	if err := validReason(req.Reason); err != nil {
		c.auditFailure(ctx, ActionRevoke, req.Caller, spiffeid.ID{}, "", err)
		return err
	}
	var subject spiffeid.ID
	var profile Profile
	if rec, err := c.store.Certificate(ctx, req.Serial); err == nil {
		subject, _ = spiffeid.New(c.cfg.trustDomain, rec.Service)
		profile = Profile(rec.Profile)
	}
	if err := c.authorize(ctx, AuthzRequest{Caller: req.Caller, Action: ActionRevoke, Subject: subject, Profile: profile, Serial: req.Serial}); err != nil {
		return err
	}
	ev := AuditEvent{Time: c.cfg.now(), Action: ActionRevoke, Caller: req.Caller, Subject: subject,
		Profile: profile, Serial: req.Serial, Reason: req.Reason}
	rec, err := c.store.Revoke(ctx, req.Serial, ev.Time, req.Reason)
	if err != nil {
		ev.Outcome, ev.Err = OutcomeFailed, err
		c.cfg.audit.Audit(ctx, ev)
		return err
	}
	entry := revocation.Entry{Serial: rec.Serial, RevokedAt: rec.RevokedAt, Reason: rec.RevocationReason, NotAfter: rec.NotAfter}
	c.revoked.Add(entry)
	c.metrics.revoked.WithLabelValues(ReasonString(req.Reason)).Inc()
	ev.Outcome, ev.NotAfter = OutcomeSuccess, rec.NotAfter
	c.cfg.audit.Audit(ctx, ev)
	if err := c.regenerateCRL(ctx); err != nil {
		// The revocation is recorded and effective through OCSP and the
		// revocation set; the periodic loop retries the CRL.
		c.cfg.logger.ErrorContext(ctx, "ca: CRL regeneration after revocation failed", "serial", fmt.Sprintf("%x", req.Serial), "error", err)
	}
	if c.cfg.notifier != nil {
		c.cfg.notifier.NotifyRevocation(ctx, entry)
	}
	return nil
}

// reasonNames are the RFC 5280 CRLReason names as CFSSL spells them.
var reasonNames = map[int]string{
	ocsp.Unspecified:          "unspecified",
	ocsp.KeyCompromise:        "keyCompromise",
	ocsp.CACompromise:         "cACompromise",
	ocsp.AffiliationChanged:   "affiliationChanged",
	ocsp.Superseded:           "superseded",
	ocsp.CessationOfOperation: "cessationOfOperation",
	ocsp.CertificateHold:      "certificateHold",
	ocsp.RemoveFromCRL:        "removeFromCRL",
	ocsp.PrivilegeWithdrawn:   "privilegeWithdrawn",
	ocsp.AACompromise:         "aACompromise",
}

// ParseReason accepts a CFSSL reason name (case-insensitive), a decimal code,
// or "" for unspecified.
func ParseReason(s string) (int, error) {
	if s == "" {
		return ocsp.Unspecified, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n, validReason(n)
	}
	for code, name := range reasonNames {
		if strings.EqualFold(name, s) {
			return code, validReason(code)
		}
	}
	return 0, fmt.Errorf("%w: unknown revocation reason %q", ErrInvalidRequest, s)
}

// ReasonString names an RFC 5280 reason code.
func ReasonString(code int) string {
	if n, ok := reasonNames[code]; ok {
		return n
	}
	return strconv.Itoa(code)
}

// validReason refuses codes that do not exist and the hold/unhold pair:
// revocation here is final.
func validReason(code int) error {
	if _, ok := reasonNames[code]; !ok || code == ocsp.CertificateHold || code == ocsp.RemoveFromCRL {
		return fmt.Errorf("%w: revocation reason %d not allowed", ErrInvalidRequest, code)
	}
	return nil
}
