package pdp_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pip"
)

// A policy written by hand in the xacml/compile contract: subject "alice"
// is permitted with an obligation carrying her fee; roles come from the
// request or a PIP; a missing subject is Indeterminate.
const mainModule = `package verdict.main

import rego.v1

subj := "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"

roles := x if {
	x := input.a[subj].roles.string
} else := x if {
	x := verdict.pip(subj, "roles", "string", "")
}

result := {"d": "IP", "s": "urn:oasis:names:tc:xacml:1.0:status:processing-error"} if {
	not roles
} else := {"d": "P", "o": [{"id": "log", "as": [{"id": "fee", "c": subj, "i": "", "t": "double", "v": fee}]}], "a": []} if {
	"admin" in roles
	fee := input.a[subj].fee.double[0]
} else := {"d": "P", "o": [], "a": []} if {
	"admin" in roles
} else := {"d": "D", "o": [], "a": [{"id": "why", "as": []}]} if {
	input.a[subj].when.dateTime
} else := {"d": "NA"}

policy_ids := [{"k": "Policy", "id": "p", "v": "1.0"}]
`

func policy(rev uint64) *pdp.Policy {
	return &pdp.Policy{
		Service:    "test",
		Revision:   rev,
		Modules:    map[string]string{"main.rego": mainModule},
		Attributes: []pdp.AttributeSpec{{Category: pdp.CategorySubject, ID: "when", Type: "dateTime"}},
	}
}

func request(attrs map[string][]pdp.Value) *pdp.Request {
	r := &pdp.Request{}
	for id, vs := range attrs {
		r.Add(pdp.CategorySubject, id, vs...)
	}
	return r
}

func str(s string) pdp.Value { return pdp.Value{Type: "string", Lexical: s} }

func newEngine(t *testing.T, opts ...pdp.Option) *pdp.Engine {
	t.Helper()
	e := pdp.New(opts...)
	if err := e.Activate(context.Background(), policy(1)); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestNoPolicyFailsClosed(t *testing.T) {
	_, err := pdp.New().Decide(context.Background(), &pdp.Request{})
	if !errors.Is(err, pdp.ErrNoPolicy) {
		t.Fatalf("got %v, want ErrNoPolicy", err)
	}
}

func TestDecisionDecoding(t *testing.T) {
	e := newEngine(t)
	d, err := e.Decide(context.Background(), request(map[string][]pdp.Value{
		"roles": {str("admin")},
		"fee":   {{Type: "double", Lexical: "27.50"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if d.Effect != pdp.EffectPermit || d.Status.Code != pdp.StatusOK || d.Revision != 1 || d.ID == "" {
		t.Fatalf("unexpected decision %+v", d)
	}
	if len(d.Obligations) != 1 || len(d.Obligations[0].Assignments) != 1 {
		t.Fatalf("obligations %+v", d.Obligations)
	}
	if a := d.Obligations[0].Assignments[0]; a.Value != "27.50" || a.Type != "double" {
		t.Fatalf("the lexical form must print back as given: %+v", a)
	}
}

func TestUntypedValuesAreCoercedToDesignatedTypes(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	// A JSON string (untyped) becomes the xs:dateTime the policy designates.
	d, err := e.Decide(ctx, request(map[string][]pdp.Value{"roles": {str("user")}, "when": {{Type: "string", Lexical: "2026-11-23T10:00:00Z", Untyped: true}}}))
	if err != nil {
		t.Fatal(err)
	}
	if d.Effect != pdp.EffectDeny || len(d.Advice) != 1 {
		t.Fatalf("got %+v, want Deny with advice", d)
	}
	// A typed xs:string is never coerced (XACML types must match).
	d, err = e.Decide(ctx, request(map[string][]pdp.Value{"roles": {str("user")}, "when": {str("2026-11-23T10:00:00Z")}}))
	if err != nil {
		t.Fatal(err)
	}
	if d.Effect != pdp.EffectNotApplicable {
		t.Fatalf("typed string was coerced: %s", d.Effect)
	}
	// An untyped value that is not a valid dateTime stays a string only.
	if _, err := e.Decide(ctx, request(map[string][]pdp.Value{"roles": {str("user")}, "when": {{Type: "string", Lexical: "soon", Untyped: true}}})); err != nil {
		t.Fatal(err)
	}
}

func TestBadValueIsRefused(t *testing.T) {
	e := newEngine(t)
	_, err := e.Decide(context.Background(), request(map[string][]pdp.Value{"age": {{Type: "integer", Lexical: "twelve"}}}))
	if !errors.Is(err, pdp.ErrBadRequest) {
		t.Fatalf("got %v, want ErrBadRequest", err)
	}
}

func TestPIPFailureIsIndeterminateNotEmpty(t *testing.T) {
	ctx := context.Background()
	var fail bool
	prov := pip.ProviderFunc(func(_ context.Context, q pip.Query) (pip.Values, error) {
		if fail {
			return nil, errors.New("directory unreachable")
		}
		if q.Key == "alice" {
			return pip.Values{"roles": {"admin"}}, nil
		}
		return nil, nil
	})
	set, err := pip.NewSet(pip.Source{Name: "dir", Provider: prov, Description: pip.Description{Key: pip.AttributeRef{Category: pdp.CategorySubject, ID: "id"}}})
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t, pdp.WithPIPs(set))
	cases := []struct {
		id   string
		fail bool
		want pdp.Effect
	}{
		{"alice", false, pdp.EffectPermit},
		{"bob", false, pdp.EffectNotApplicable},
		{"alice", true, pdp.EffectIndeterminate},
	}
	for _, c := range cases {
		fail = c.fail
		d, err := e.Decide(ctx, request(map[string][]pdp.Value{"id": {str(c.id)}}))
		if err != nil {
			t.Fatal(err)
		}
		if d.Effect != c.want {
			t.Errorf("%s (fail=%v): %s, want %s", c.id, c.fail, d.Effect, c.want)
		}
		if !c.fail && c.id == "alice" && len(d.PIPValues) != 1 {
			t.Errorf("PIP fetches not recorded: %+v", d.PIPValues)
		}
	}
}

func TestPolicyIDsOnRequest(t *testing.T) {
	e := newEngine(t)
	d, err := e.Decide(context.Background(), &pdp.Request{ReturnPolicyIDs: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.PolicyIDs) != 1 || d.PolicyIDs[0].ID != "p" {
		t.Fatalf("policy ids %+v", d.PolicyIDs)
	}
}

func TestStaleRevisionRefused(t *testing.T) {
	e := pdp.New()
	ctx := context.Background()
	if err := e.Activate(ctx, policy(5)); err != nil {
		t.Fatal(err)
	}
	if err := e.Activate(ctx, policy(4)); !errors.Is(err, pdp.ErrStaleRevision) {
		t.Fatalf("got %v, want ErrStaleRevision", err)
	}
	if e.Active().Revision != 5 {
		t.Fatal("a stale revision replaced the active one")
	}
	bad := policy(6)
	bad.Modules = map[string]string{"main.rego": "package verdict.main\nresult := "}
	if err := e.Activate(ctx, bad); err == nil || e.Active().Revision != 5 {
		t.Fatalf("a broken policy must be refused and keep the active one (err %v)", err)
	}
}

// TestConcurrentDecideAndSwap decides from several goroutines while
// revisions are activated: every decision succeeds, on some revision.
func TestConcurrentDecideAndSwap(t *testing.T) {
	e := newEngine(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				d, err := e.Decide(ctx, request(map[string][]pdp.Value{"roles": {str("admin")}}))
				if err != nil {
					errs <- err
					return
				}
				if d.Effect != pdp.EffectPermit {
					errs <- fmt.Errorf("decision %s on revision %d", d.Effect, d.Revision)
					return
				}
			}
		}()
	}
	for rev := uint64(2); rev <= 6; rev++ {
		if err := e.Activate(ctx, policy(rev)); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if e.Active().Revision != 6 {
		t.Fatalf("active revision %d", e.Active().Revision)
	}
}
