package publish

import (
	"context"
	"errors"
	"fmt"

	"github.com/verdict-authz/verdict/pap/store"
)

// Reconcile publishes the head revision of every service whose subject
// lags behind the store: a PAP that stored a revision and died before
// publishing it, or a push stored while NATS was unreachable, still
// reaches the PDPs. It returns what it published; errors of individual
// services are joined, and the others are still reconciled.
func (p *Publisher) Reconcile(ctx context.Context, st store.Store) ([]Result, error) {
	services, err := st.Services(ctx)
	if err != nil {
		return nil, fmt.Errorf("publish: reconcile: %w", err)
	}
	var out []Result
	var errs []error
	for _, svc := range services {
		last, err := p.LastPublished(ctx, svc.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if last >= uint64(svc.Head) {
			continue
		}
		rev, err := st.Latest(ctx, svc.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("publish: reconcile %s: %w", svc.Name, err))
			continue
		}
		res, err := p.Publish(ctx, rev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !res.Skipped {
			p.log.Info("reconciled a revision the subject lacked", "service", svc.Name, "revision", rev.Number, "was", last)
			out = append(out, res)
		}
	}
	return out, errors.Join(errs...)
}
