package pdp_test

import (
	"context"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pdp"
)

// clockModule echoes, as assignments of one obligation, every value the
// input holds for the three standard date and time environment attributes.
const clockModule = `package verdict.main

import rego.v1

env := "urn:oasis:names:tc:xacml:3.0:attribute-category:environment"

bag(id, t) := x if {
	x := input.a[env][id][t]
} else := []

entries(name, id, t) := [{"id": name, "c": env, "i": "", "t": t, "v": v} | some v in bag(id, t)]

result := {"d": "P", "o": [{"id": "now", "as": array.concat(array.concat(
	entries("time", "urn:oasis:names:tc:xacml:1.0:environment:current-time", "time"),
	entries("date", "urn:oasis:names:tc:xacml:1.0:environment:current-date", "date")),
	entries("dateTime", "urn:oasis:names:tc:xacml:1.0:environment:current-dateTime", "dateTime"))}], "a": []}

policy_ids := []
`

func clockEngine(t *testing.T, now time.Time) *pdp.Engine {
	t.Helper()
	e := pdp.New(pdp.WithClock(func() time.Time { return now }))
	p := &pdp.Policy{Service: "clock", Revision: 1, Modules: map[string]string{"main.rego": clockModule}}
	for _, a := range []struct{ id, typ string }{
		{pdp.AttrCurrentTime, "time"}, {pdp.AttrCurrentDate, "date"}, {pdp.AttrCurrentDateTime, "dateTime"},
	} {
		p.Attributes = append(p.Attributes, pdp.AttributeSpec{Category: pdp.CategoryEnvironment, ID: a.id, Type: a.typ})
	}
	p.AttributesComplete = true
	if err := e.Activate(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return e
}

func assignments(t *testing.T, d *pdp.Decision) map[string][]string {
	t.Helper()
	if d.Effect != pdp.EffectPermit || len(d.Obligations) != 1 {
		t.Fatalf("got %v with %d obligations, want Permit with one", d.Effect, len(d.Obligations))
	}
	got := map[string][]string{}
	for _, a := range d.Obligations[0].Assignments {
		got[a.AttributeID] = append(got[a.AttributeID], a.Value)
	}
	return got
}

// The context handler supplies current-time, current-date and
// current-dateTime from one instant when the request lacks them.
func TestCurrentTimeSupplied(t *testing.T) {
	now := time.Date(2026, 11, 23, 8, 30, 15, 250_000_000, time.FixedZone("X", -5*3600))
	req := &pdp.Request{}
	req.Add(pdp.CategorySubject, "urn:oasis:names:tc:xacml:1.0:subject:subject-id", str("alice"))
	d, err := clockEngine(t, now).Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got := assignments(t, d)
	want := map[string]string{"time": "13:30:15.25Z", "date": "2026-11-23Z", "dateTime": "2026-11-23T13:30:15.25Z"}
	for k, v := range want {
		if len(got[k]) != 1 || got[k][0] != v {
			t.Errorf("%s: got %q, want [%q]", k, got[k], v)
		}
	}
	if len(req.Attributes) != 1 {
		t.Errorf("the caller's request was modified: %d attributes", len(req.Attributes))
	}
}

// A value the request supplies is used as is (whatever its issuer), and
// only the missing attributes are added.
func TestCurrentTimeFromRequestKept(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	req := &pdp.Request{Attributes: []pdp.Attribute{{
		Category: pdp.CategoryEnvironment, ID: pdp.AttrCurrentDateTime, Issuer: "pep",
		Values: []pdp.Value{{Type: "dateTime", Lexical: "2002-03-22T08:23:47-05:00"}},
	}}}
	d, err := clockEngine(t, now).Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	got := assignments(t, d)
	if len(got["dateTime"]) != 1 || got["dateTime"][0] != "2002-03-22T08:23:47-05:00" {
		t.Errorf("dateTime: got %q, want the request's value only", got["dateTime"])
	}
	if len(got["date"]) != 1 || got["date"][0] != "2030-01-02Z" {
		t.Errorf("date: got %q, want [2030-01-02Z]", got["date"])
	}
	if len(got["time"]) != 1 || got["time"][0] != "03:04:05Z" {
		t.Errorf("time: got %q, want [03:04:05Z]", got["time"])
	}
}
