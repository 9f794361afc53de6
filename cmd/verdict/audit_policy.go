package main

import (
	"context"
	"fmt"

	"github.com/verdict-authz/verdict/pap/publish"
	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pdp"
)

// storePolicies is audit.PolicySource over the PAP's revision store: it
// rebuilds a revision's bundle exactly as the PAP published it and loads
// the compiled policy from it, so a replay runs what the PDPs ran.
type storePolicies struct{ st store.Store }

func (p storePolicies) Policy(ctx context.Context, service string, revision int64) (*pdp.Policy, error) {
	rev, err := p.st.Get(ctx, service, revision)
	if err != nil {
		return nil, err
	}
	b, err := publish.Build(rev)
	if err != nil {
		return nil, fmt.Errorf("rebuild %s revision %d: %w", service, revision, err)
	}
	pol, err := pdp.PolicyFromBundle(b)
	if err != nil {
		return nil, fmt.Errorf("load %s revision %d: %w", service, revision, err)
	}
	return pol, nil
}
