package storetest

import (
	"context"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/pap/store"
)

func testCreateFirstRevision(t *testing.T, s store.Store) {
	d := draft("orders", 0, 1)
	d.Message = "first push: orders → root"
	before := time.Now().Truncate(time.Microsecond)
	rev := mustCreate(t, s, d)
	after := time.Now()

	if rev.Service != "orders" || rev.Number != 1 || rev.Parent != 0 || rev.RollbackOf != 0 {
		t.Errorf("revision identity = %q #%d parent %d rollback of %d, want orders #1 parent 0 rollback of 0",
			rev.Service, rev.Number, rev.Parent, rev.RollbackOf)
	}
	if rev.Author != d.Author || rev.Message != d.Message {
		t.Errorf("author, message = %q, %q, want %q, %q", rev.Author, rev.Message, d.Author, d.Message)
	}
	if rev.Action() != store.ActionPush {
		t.Errorf("Action() = %q, want push", rev.Action())
	}
	if want := d.Content.Digest(); rev.Digest != want || !strings.HasPrefix(rev.Digest, "sha256:") {
		t.Errorf("Digest = %q, want %q", rev.Digest, want)
	}
	if !reflect.DeepEqual(rev.Content, d.Content.Canonical()) {
		t.Errorf("Content = %+v, want %+v", rev.Content, d.Content.Canonical())
	}
	names := []string{rev.Content.Sources[0].Name, rev.Content.Sources[1].Name, rev.Content.Sources[2].Name}
	if !slices.IsSorted(names) {
		t.Errorf("sources are not sorted by name: %q", names)
	}
	if rev.CreatedAt.Before(before) || rev.CreatedAt.After(after) {
		t.Errorf("CreatedAt = %s, want between %s and %s", rev.CreatedAt, before, after)
	}
	if rev.CreatedAt.Location() != time.UTC || rev.CreatedAt.Nanosecond()%1000 != 0 {
		t.Errorf("CreatedAt = %s, want UTC with microsecond precision", rev.CreatedAt)
	}

	checkSameRevision(t, "Get(orders, 1)", mustGet(t, s, "orders", 1), rev)
	latest, err := s.Latest(t.Context(), "orders")
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	checkSameRevision(t, "Latest(orders)", latest, rev)
}

func testRevisionsAreNumberedInOrder(t *testing.T, s store.Store) {
	revs := pushN(t, s, "orders", 5)
	digests := map[string]bool{}
	for i, rev := range revs {
		if rev.Number != int64(i+1) || rev.Parent != int64(i) {
			t.Fatalf("push %d got number %d parent %d, want %d and %d", i+1, rev.Number, rev.Parent, i+1, i)
		}
		if i > 0 && rev.CreatedAt.Before(revs[i-1].CreatedAt) {
			t.Errorf("revision %d created at %s, before revision %d at %s", rev.Number, rev.CreatedAt, i, revs[i-1].CreatedAt)
		}
		digests[rev.Digest] = true
		checkSameRevision(t, "Get", mustGet(t, s, "orders", rev.Number), rev)
	}
	if len(digests) != len(revs) {
		t.Errorf("%d distinct digests for %d different contents", len(digests), len(revs))
	}
	if got := mustGet(t, s, "orders", 3).Content; !reflect.DeepEqual(got, content(3).Canonical()) {
		t.Errorf("Get(orders, 3).Content = %+v, want content(3)", got)
	}
	latest, err := s.Latest(t.Context(), "orders")
	if err != nil {
		t.Fatalf("Latest: %v", err)
	}
	checkSameRevision(t, "Latest", latest, revs[4])
}

func testCreateRefusesStaleParent(t *testing.T, s store.Store) {
	pushN(t, s, "orders", 2)
	for _, parent := range []int64{0, 1, 3, 10} {
		_, err := s.Create(t.Context(), draft("orders", parent, 9))
		wantErr(t, "Create on parent "+strconv.FormatInt(parent, 10)+" with head 2", err, store.ErrConflict)
	}
	_, err := s.Create(t.Context(), draft("billing", 1, 9))
	wantErr(t, "first Create of a service with parent 1", err, store.ErrConflict)

	checkNothingStored(t, s, map[string]int64{"orders": 2})
	if latest := mustGet(t, s, "orders", 2); !reflect.DeepEqual(latest.Content, content(2).Canonical()) {
		t.Errorf("head content changed by a refused push")
	}
	// The caller that reloads the head succeeds.
	if rev := mustCreate(t, s, draft("orders", 2, 9)); rev.Number != 3 {
		t.Errorf("Create on the current head got number %d, want 3", rev.Number)
	}
}

func testCreateRejectsInvalidDrafts(t *testing.T, s store.Store) {
	pushN(t, s, "orders", 1)
	tests := map[string]func(d *store.Draft){
		"empty service":               func(d *store.Draft) { d.Service = "" },
		"upper-case service":          func(d *store.Draft) { d.Service = "Orders" },
		"service starting with dash":  func(d *store.Draft) { d.Service = "-orders" },
		"service with underscore":     func(d *store.Draft) { d.Service = "orders_v2" },
		"service with dot":            func(d *store.Draft) { d.Service = "orders.v2" },
		"service with wildcard":       func(d *store.Draft) { d.Service = "orders*" },
		"service with space":          func(d *store.Draft) { d.Service = "orders v2" },
		"non-ASCII service":           func(d *store.Draft) { d.Service = "ordérs" },
		"64-character service":        func(d *store.Draft) { d.Service = strings.Repeat("a", 64) },
		"negative parent":             func(d *store.Draft) { d.Parent = -1 },
		"negative rollback target":    func(d *store.Draft) { d.RollbackOf = -1 },
		"rollback to a future rev":    func(d *store.Draft) { d.RollbackOf = 2 },
		"no author":                   func(d *store.Draft) { d.Author = "" },
		"no sources":                  func(d *store.Draft) { d.Content.Sources = nil },
		"source without name":         func(d *store.Draft) { d.Content.Sources[1].Name = "" },
		"duplicate source":            func(d *store.Draft) { d.Content.Sources[2].Name = d.Content.Sources[0].Name },
		"source without format":       func(d *store.Draft) { d.Content.Sources[0].Format = "" },
		"no root policy":              func(d *store.Draft) { d.Content.RootPolicyID = "" },
		"no compiled Rego":            func(d *store.Draft) { d.Content.Rego = nil },
		"Rego module with empty path": func(d *store.Draft) { d.Content.Rego[""] = "package x\n" },
		"NUL in message":              func(d *store.Draft) { d.Message = "a\x00b" },
		"invalid UTF-8 author":        func(d *store.Draft) { d.Author = "\xff" },
		"invalid UTF-8 root policy":   func(d *store.Draft) { d.Content.RootPolicyID = "r\xc3" },
		"NUL in source name":          func(d *store.Draft) { d.Content.Sources[0].Name = "a\x00.xml" },
		"invalid UTF-8 format":        func(d *store.Draft) { d.Content.Sources[0].Format = "\xfe" },
		"invalid UTF-8 Rego path":     func(d *store.Draft) { d.Content.Rego["\xff.rego"] = "package x\n" },
		"NUL in Rego source":          func(d *store.Draft) { d.Content.Rego["verdict/root.rego"] = "package x\x00" },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			d := draft("orders", 1, 2)
			mutate(&d)
			_, err := s.Create(t.Context(), d)
			wantErr(t, "Create", err, store.ErrInvalid)
		})
	}
	checkNothingStored(t, s, map[string]int64{"orders": 1})
}

func testCreateAcceptsEdgeServiceNames(t *testing.T, s store.Store) {
	names := []string{"a", "0", "a-", "9-to-5", strings.Repeat("z", 63)}
	for _, name := range names {
		if rev := mustCreate(t, s, draft(name, 0, 1)); rev.Service != name || rev.Number != 1 {
			t.Errorf("Create(%q) = %q #%d", name, rev.Service, rev.Number)
		}
	}
	services, err := s.Services(t.Context())
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	if len(services) != len(names) {
		t.Errorf("Services returned %d, want %d", len(services), len(names))
	}
}

func testCreateWithCancelledContextStoresNothing(t *testing.T, s store.Store) {
	pushN(t, s, "orders", 1)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Create(ctx, draft("orders", 1, 2))
	wantErr(t, "Create with a cancelled context", err, context.Canceled)
	_, err = s.Create(ctx, draft("billing", 0, 1))
	wantErr(t, "Create of a new service with a cancelled context", err, context.Canceled)
	checkNothingStored(t, s, map[string]int64{"orders": 1})
}

func testRollback(t *testing.T, s store.Store) {
	revs := pushN(t, s, "orders", 2)
	rb := mustCreate(t, s, store.Draft{
		Service:    "orders",
		Parent:     2,
		RollbackOf: 1,
		Content:    revs[0].Content,
		Author:     "bob@example.com",
		Message:    "revert change 2",
	})
	if rb.Number != 3 || rb.Parent != 2 || rb.RollbackOf != 1 || rb.Action() != store.ActionRollback {
		t.Fatalf("rollback revision = #%d parent %d rollback of %d action %q, want #3 parent 2 rollback of 1 action rollback",
			rb.Number, rb.Parent, rb.RollbackOf, rb.Action())
	}
	if rb.Digest != revs[0].Digest {
		t.Errorf("rollback digest = %s, want revision 1's %s", rb.Digest, revs[0].Digest)
	}
	checkSameRevision(t, "Get(orders, 3)", mustGet(t, s, "orders", 3), rb)

	// Rolling back to the head itself is allowed (it republishes it).
	if again := mustCreate(t, s, store.Draft{Service: "orders", Parent: 3, RollbackOf: 3, Content: rb.Content, Author: "bob"}); again.RollbackOf != 3 {
		t.Errorf("rollback to the head got RollbackOf %d, want 3", again.RollbackOf)
	}
	_, err := s.Create(t.Context(), store.Draft{Service: "orders", Parent: 4, RollbackOf: 5, Content: rb.Content, Author: "bob"})
	wantErr(t, "rollback to a revision that does not exist", err, store.ErrInvalid)
	checkNothingStored(t, s, map[string]int64{"orders": 4})
}

func testContentRoundTrip(t *testing.T, s store.Store) {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	tests := map[string]store.Content{
		"binary and unicode": {
			Sources: []store.Source{
				{Name: "politiques/accès.xml", Format: "xacml-xml", Content: every},
				{Name: "B.yaml", Format: "xacml-yaml", Content: []byte("名前: 値\n")},
				{Name: "a.yaml", Format: "xacml-yaml", Content: []byte("x: 1\n")},
				{Name: "a-b.yaml", Format: "xacml-yaml", Content: []byte("x: 2\n")},
			},
			RootPolicyID: "urn:example:policy:ルート",
			Rego:         map[string]string{"verdict/ü.rego": "package verdict\n# ünïcödé ✓\n"},
			Data:         every,
		},
		"empty file, empty module, no data": {
			Sources:      []store.Source{{Name: "empty.xml", Format: "xacml-xml", Content: []byte{}}},
			RootPolicyID: "root",
			Rego:         map[string]string{"empty.rego": ""},
			Data:         []byte{},
		},
		"large": {
			Sources:      []store.Source{{Name: "big.xml", Format: "xacml-xml", Content: []byte(strings.Repeat("<Rule/>", 150_000))}},
			RootPolicyID: "root",
			Rego:         map[string]string{"big.rego": strings.Repeat("allow if { true }\n", 60_000)},
			Data:         []byte(strings.Repeat(`{"k":"v"},`, 100_000)),
		},
	}
	var parent int64
	for name, c := range tests {
		t.Run(name, func(t *testing.T) {
			rev := mustCreate(t, s, store.Draft{Service: "orders", Parent: parent, Content: c, Author: "Zoë <zoe@example.com>", Message: "multi\nline\tmessage"})
			parent = rev.Number
			if !reflect.DeepEqual(rev.Content, c.Canonical()) {
				t.Fatalf("Create returned content %+v, want %+v", rev.Content, c.Canonical())
			}
			checkSameRevision(t, "Get", mustGet(t, s, "orders", rev.Number), rev)
			if got := mustGet(t, s, "orders", rev.Number); got.Digest != c.Digest() {
				t.Errorf("stored digest %s, want %s", got.Digest, c.Digest())
			}
		})
	}
}

func testStoredRevisionsAreImmutable(t *testing.T, s store.Store) {
	d := draft("orders", 0, 1)
	want := d.Content.Canonical()
	rev := mustCreate(t, s, d)

	// Neither the caller's draft nor the returned revisions alias the store.
	d.Content.Sources[0].Content[0] = 'X'
	d.Content.Rego["verdict/root.rego"] = "tampered"
	d.Content.Data[0] = 'X'
	rev.Content.Sources[0].Content[0] = 'Y'
	rev.Content.Rego["verdict/orders.rego"] = "tampered"
	got := mustGet(t, s, "orders", 1)
	if !reflect.DeepEqual(got.Content, want) {
		t.Fatalf("stored content changed through the draft or Create's result: %+v", got.Content)
	}
	got.Content.Sources[1].Content[0] = 'Z'
	got.Content.Data[0] = 'Z'
	if again := mustGet(t, s, "orders", 1); !reflect.DeepEqual(again.Content, want) {
		t.Fatalf("stored content changed through Get's result: %+v", again.Content)
	}
}
