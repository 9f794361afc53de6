package pdp_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pip"
)

// rolesPIP answers the roles of every subject with role.
func rolesPIP(t *testing.T, role string) *pip.Set {
	t.Helper()
	prov := pip.ProviderFunc(func(context.Context, pip.Query) (pip.Values, error) {
		return pip.Values{"roles": {role}}, nil
	})
	set, err := pip.NewSet(pip.Source{Name: "dir-" + role, Provider: prov, Description: pip.Description{Key: pip.AttributeRef{Category: pdp.CategorySubject, ID: "id"}}})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestCacheSharesCompiledPolicyButNotPIPs(t *testing.T) {
	ctx := context.Background()
	cache := pdp.NewCache(4)
	admin := pdp.New(pdp.WithCache(cache), pdp.WithPIPs(rolesPIP(t, "admin")))
	user := pdp.New(pdp.WithCache(cache), pdp.WithPIPs(rolesPIP(t, "user")))
	var wg sync.WaitGroup
	for _, e := range []*pdp.Engine{admin, user} {
		wg.Go(func() {
			if err := e.Activate(ctx, policy(1)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if cache.Len() != 1 {
		t.Fatalf("cache holds %d policies after two activations of one content, want 1", cache.Len())
	}
	// Each engine asks its own PIPs, although they run one compiled policy.
	req := request(map[string][]pdp.Value{"id": {str("alice")}})
	for e, want := range map[*pdp.Engine]pdp.Effect{admin: pdp.EffectPermit, user: pdp.EffectNotApplicable} {
		d, err := e.Decide(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if d.Effect != want {
			t.Errorf("decision %s, want %s: the engines' PIPs leaked into each other", d.Effect, want)
		}
	}
	// A new revision of the same content shares the compile and still
	// reports its own revision.
	if err := admin.Activate(ctx, policy(2)); err != nil {
		t.Fatal(err)
	}
	d, err := admin.Decide(ctx, req)
	if err != nil || d.Revision != 2 {
		t.Fatalf("decision %+v, %v: want revision 2", d, err)
	}
	if cache.Len() != 1 {
		t.Fatalf("cache holds %d policies, want 1", cache.Len())
	}
}

func TestCacheDistinguishesContentAndEvicts(t *testing.T) {
	ctx := context.Background()
	cache := pdp.NewCache(2)
	e := pdp.New(pdp.WithCache(cache))
	for i := range 3 {
		p := policy(uint64(i + 1))
		// Same module, different designated attributes: a different
		// content (the input builder types values from them).
		p.Attributes = append(p.Attributes, pdp.AttributeSpec{Category: pdp.CategorySubject, ID: fmt.Sprintf("extra%d", i), Type: "string"})
		if err := e.Activate(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if cache.Len() != 2 {
		t.Fatalf("cache of size 2 holds %d policies", cache.Len())
	}
}

func TestCacheDoesNotKeepFailedCompiles(t *testing.T) {
	ctx := context.Background()
	cache := pdp.NewCache(4)
	e := pdp.New(pdp.WithCache(cache))
	bad := policy(1)
	bad.Modules = map[string]string{"main.rego": "package verdict.main\n\nresult := "}
	if err := e.Activate(ctx, bad); err == nil {
		t.Fatal("a policy that does not parse was activated")
	}
	if cache.Len() != 0 {
		t.Fatalf("a failed compile is cached (%d entries)", cache.Len())
	}
	// A cancelled activation is not remembered either: the next one compiles.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_ = e.Activate(cctx, policy(1))
	if err := e.Activate(ctx, policy(1)); err != nil {
		t.Fatalf("activation after a cancelled one: %v", err)
	}
	if _, err := e.Decide(ctx, request(map[string][]pdp.Value{"roles": {str("admin")}})); err != nil {
		t.Fatal(err)
	}
}
