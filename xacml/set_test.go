package xacml

import (
	"errors"
	"testing"
)

func TestVersionMatching(t *testing.T) {
	cases := []struct {
		version string
		ref     Reference
		want    bool
	}{
		{"1.2.3", Reference{Version: "1.2.3"}, true},
		{"1.2.3", Reference{Version: "1.*.3"}, true},
		{"1.2.3", Reference{Version: "1.2.*"}, true},
		{"1.2.3", Reference{Version: "1.+"}, true},
		{"1.2.3", Reference{Version: "1.2"}, false},
		{"1.2", Reference{Version: "1.2.*"}, false},
		{"1", Reference{Version: "1.+"}, false},
		{"1.02", Reference{Version: "1.2"}, true},
		{"1.5", Reference{EarliestVersion: "1.2", LatestVersion: "2.0"}, true},
		{"2.0.1", Reference{EarliestVersion: "1.2", LatestVersion: "2.0"}, false},
		{"1.1", Reference{EarliestVersion: "1.2"}, false},
		{"1.10", Reference{EarliestVersion: "1.9"}, true},
		{"3.7", Reference{LatestVersion: "3.*"}, true},
		{"4.0", Reference{LatestVersion: "3.+"}, false},
		{"3.9.9", Reference{LatestVersion: "3.+"}, true},
		{"1.0", Reference{}, true},
	}
	for _, c := range cases {
		if got := VersionSatisfies(c.version, &c.ref); got != c.want {
			t.Errorf("%s vs %+v: got %v", c.version, c.ref, got)
		}
	}
	for _, v := range []string{"1", "1.0", "10.20.30"} {
		if !ValidVersion(v) {
			t.Errorf("%q should be a version", v)
		}
	}
	for _, v := range []string{"", "1.", ".1", "1.*", "v1"} {
		if ValidVersion(v) {
			t.Errorf("%q should not be a version", v)
		}
	}
	for _, m := range []string{"1.*", "*", "+", "1.+", "*.2"} {
		if !ValidVersionMatch(m) {
			t.Errorf("%q should be a version match", m)
		}
	}
	for _, m := range []string{"", "+.1", "1.x", "1..2"} {
		if ValidVersionMatch(m) {
			t.Errorf("%q should not be a version match", m)
		}
	}
	if CompareVersions("1.10", "1.9") <= 0 || CompareVersions("1.0", "1.0.1") >= 0 || CompareVersions("01.0", "1.0") != 0 {
		t.Error("CompareVersions is not numeric")
	}
}

func TestResolvePicksLatestMatchingVersion(t *testing.T) {
	mk := func(v string) *Policy { return &Policy{ID: "p", Version: v, Pos: Pos{File: v + ".xml", Line: 1}} }
	p1, p2, p3 := mk("1.0"), mk("1.5"), mk("2.0")
	set, err := NewSet([]Evaluable{p1, p3, p2})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ref  Reference
		want *Policy
	}{
		{Reference{}, p3},
		{Reference{Version: "1.*"}, p2},
		{Reference{LatestVersion: "1.9"}, p2},
		{Reference{EarliestVersion: "1.1", LatestVersion: "1.9"}, p2},
		{Reference{Version: "1.0"}, p1},
	}
	for _, c := range cases {
		r := c.ref
		r.Kind, r.ID = KindPolicy, "p"
		got, err := set.Resolve(&r)
		if err != nil || got != c.want {
			t.Errorf("%+v: got %v, %v", c.ref, got, err)
		}
	}
	_, err = set.Resolve(&Reference{Kind: KindPolicy, ID: "p", Version: "3.*"})
	if !errors.Is(err, ErrReference) {
		t.Errorf("unmatched version: %v", err)
	}
	_, err = set.Resolve(&Reference{Kind: KindPolicySet, ID: "p"})
	if !errors.Is(err, ErrReference) {
		t.Errorf("wrong kind: %v", err)
	}
	_, err = set.Resolve(&Reference{Kind: KindPolicy, ID: "p", Version: "1.x"})
	if !errors.Is(err, ErrSyntax) {
		t.Errorf("bad pattern: %v", err)
	}
	if _, err := NewSet([]Evaluable{p1, mk("01.0")}); !errors.Is(err, ErrDuplicateID) {
		t.Errorf("1.0 and 01.0 are the same version: %v", err)
	}
	if _, err := NewSet([]Evaluable{p1, &PolicySet{ID: "p", Version: "1.0"}}); err != nil {
		t.Errorf("a Policy and a PolicySet may share an id: %v", err)
	}
}

func TestFindRoot(t *testing.T) {
	leaf := &Policy{ID: "leaf", Version: "1.0"}
	top := &PolicySet{ID: "top", Version: "1.0", Children: []any{&Reference{Kind: KindPolicy, ID: "leaf"}}}
	other := &Policy{ID: "other", Version: "1.0"}
	got, err := FindRoot([]Evaluable{leaf, top}, "")
	if err != nil || got != top {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := FindRoot([]Evaluable{leaf, top, other}, ""); !errors.Is(err, ErrReference) {
		t.Fatalf("two roots: %v", err)
	}
	got, err = FindRoot([]Evaluable{leaf, top, other}, "other")
	if err != nil || got != other {
		t.Fatalf("named root: %v, %v", got, err)
	}
	if _, err := FindRoot([]Evaluable{leaf}, "missing"); !errors.Is(err, ErrReference) {
		t.Fatalf("missing named root: %v", err)
	}
	a := &PolicySet{ID: "a", Version: "1.0", Children: []any{&Reference{Kind: KindPolicySet, ID: "b"}}}
	b := &PolicySet{ID: "b", Version: "1.0", Children: []any{&Reference{Kind: KindPolicySet, ID: "a"}}}
	if _, err := FindRoot([]Evaluable{a, b}, ""); !errors.Is(err, ErrCircularReference) {
		t.Fatalf("cycle: %v", err)
	}
	v1 := &Policy{ID: "v", Version: "1.0"}
	v2 := &Policy{ID: "v", Version: "2.0"}
	if got, _ := FindRoot([]Evaluable{v2, v1}, "v"); got != v2 {
		t.Fatalf("named root should be the latest version")
	}
}
