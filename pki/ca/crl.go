package ca

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"
)

// CRL is a signed certificate revocation list.
type CRL struct {
	DER        []byte
	Number     *big.Int
	ThisUpdate time.Time
	NextUpdate time.Time
}

type crlHolder struct {
	cur atomic.Pointer[CRL]
}

// CRL returns the current CRL. It is regenerated on every revocation and at
// the configured interval.
func (c *CA) CRL() CRL { return *c.crl.cur.Load() }

// regenerateCRL signs a fresh CRL from the store. The mutex keeps CRL numbers
// strictly increasing and stops an older list from replacing a newer one.
func (c *CA) regenerateCRL(ctx context.Context) error {
	c.crlMu.Lock()
	defer c.crlMu.Unlock()
	now := c.cfg.now().UTC().Truncate(time.Second)
	revoked, err := c.store.RevokedUnexpired(ctx, now)
	if err != nil {
		return fmt.Errorf("ca: CRL: %w", err)
	}
	number := big.NewInt(now.UnixNano())
	if prev := c.crl.cur.Load(); prev != nil && number.Cmp(prev.Number) <= 0 {
		number = new(big.Int).Add(prev.Number, big.NewInt(1))
	}
	tmpl := &x509.RevocationList{
		Number:     number,
		ThisUpdate: now,
		NextUpdate: now.Add(c.cfg.crlValidity),
	}
	for _, r := range revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: r.Serial, RevocationTime: r.RevokedAt, ReasonCode: r.RevocationReason,
		})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, c.auth.issuer, c.auth.signer)
	if err != nil {
		return fmt.Errorf("ca: CRL: %w", err)
	}
	c.crl.cur.Store(&CRL{DER: der, Number: number, ThisUpdate: now, NextUpdate: tmpl.NextUpdate})
	return nil
}
