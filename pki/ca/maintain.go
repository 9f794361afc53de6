package ca

import (
	"context"
	"time"
)

// maintain is the background loop: it keeps the expiring-soon gauge fresh,
// re-signs the CRL before it goes stale, prunes the revocation set and
// deletes expired join tokens.
func (c *CA) maintain(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.cfg.maintenance)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := c.cfg.now()
		c.updateExpiring(ctx)
		c.revoked.Prune(now)
		if _, err := c.store.DeleteExpiredJoinTokens(ctx, now); err != nil && ctx.Err() == nil {
			c.cfg.logger.WarnContext(ctx, "ca: deleting expired join tokens failed", "error", err)
		}
		if cur := c.crl.cur.Load(); cur == nil || !now.Before(cur.ThisUpdate.Add(c.cfg.crlInterval)) {
			if err := c.regenerateCRL(ctx); err != nil && ctx.Err() == nil {
				c.cfg.logger.ErrorContext(ctx, "ca: periodic CRL regeneration failed", "error", err)
			}
		}
	}
}

// updateExpiring sets the expiring-soon gauge.
func (c *CA) updateExpiring(ctx context.Context) {
	now := c.cfg.now()
	n, err := c.store.CountExpiring(ctx, now, now.Add(c.cfg.expiringWindow))
	if err != nil {
		if ctx.Err() == nil {
			c.cfg.logger.WarnContext(ctx, "ca: counting expiring certificates failed", "error", err)
		}
		return
	}
	c.metrics.expiring.Set(float64(n))
}
