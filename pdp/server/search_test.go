package server_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/verdict-authz/verdict/pdp/server"
)

// ids lists the "id" (or "name" for actions) of search results.
func ids(t testing.TB, r reply) []string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.raw)
	}
	res, ok := r.body["results"].([]any)
	if !ok {
		t.Fatalf("no results array: %s", r.raw)
	}
	out := []string{}
	for _, x := range res {
		m := x.(map[string]any)
		if id, ok := m["id"].(string); ok {
			out = append(out, id)
			continue
		}
		out = append(out, m["name"].(string))
	}
	return out
}

func nextToken(t testing.TB, r reply) string {
	t.Helper()
	page, ok := r.body["page"].(map[string]any)
	if !ok {
		t.Fatalf("no page object: %s", r.raw)
	}
	tok, ok := page["next_token"].(string)
	if !ok {
		t.Fatalf("page.next_token is not a string: %s", r.raw)
	}
	return tok
}

func TestSearch(t *testing.T) {
	r := start(t)
	tests := []struct {
		name string
		path string
		body obj
		want []string
	}{
		{"subjects who may read", server.PathSearchSubject,
			obj{"subject": obj{"type": "user"}, "action": action("read"), "resource": resource("record-1")},
			[]string{"alice", "bob", "carol", "dave", "erin"}},
		{"subject id is ignored", server.PathSearchSubject,
			obj{"subject": obj{"type": "user", "id": "zed"}, "action": action("read"), "resource": resource("record-1"), "context": obj{"time": "2025-06-27T18:03-07:00"}},
			[]string{"alice", "bob", "carol", "dave", "erin"}},
		{"subjects who may write an archived record", server.PathSearchSubject,
			obj{"subject": obj{"type": "user"}, "action": action("write"), "resource": resource("record-2", "status", "archived")},
			[]string{"carol", "dave", "erin"}},
		{"other subject types", server.PathSearchSubject,
			obj{"subject": obj{"type": "robot"}, "action": action("write"), "resource": resource("record-2")},
			[]string{"r2d2"}},
		{"unknown subject type", server.PathSearchSubject,
			obj{"subject": obj{"type": "spaceship"}, "action": action("read"), "resource": resource("record-1")},
			[]string{}},
		{"unknown resource", server.PathSearchSubject,
			obj{"subject": obj{"type": "user"}, "action": action("read"), "resource": resource("record-9")},
			[]string{}},
		{"resources alice may read", server.PathSearchResource,
			obj{"subject": subject("alice"), "action": action("read"), "resource": obj{"type": "record"}},
			[]string{"record-1", "record-2", "record-3"}},
		{"resources alice may write (statuses from the PIP)", server.PathSearchResource,
			obj{"subject": subject("alice"), "action": action("write"), "resource": obj{"type": "record"}},
			[]string{"record-1", "record-3"}},
		{"resources an admin may write", server.PathSearchResource,
			obj{"subject": subject("bob", "role", "admin"), "action": action("write"), "resource": obj{"type": "record"}},
			[]string{"record-1", "record-2", "record-3"}},
		{"unknown resource type", server.PathSearchResource,
			obj{"subject": subject("alice"), "action": action("read"), "resource": obj{"type": "spaceship"}},
			[]string{}},
		{"resources of an unknown subject", server.PathSearchResource,
			obj{"subject": subject("nonexistent-user"), "action": action("read"), "resource": obj{"type": "record"}},
			[]string{}},
		{"actions of alice", server.PathSearchAction,
			obj{"subject": subject("alice"), "resource": resource("record-1")},
			[]string{"read", "write"}},
		{"actions of an admin on an archived record", server.PathSearchAction,
			obj{"subject": subject("bob", "role", "admin"), "resource": resource("record-2", "status", "archived")},
			[]string{"read", "write"}},
		{"action in an action search is ignored", server.PathSearchAction,
			obj{"subject": subject("alice"), "action": action("delete"), "resource": resource("record-2")},
			[]string{"read"}},
		{"actions of an unknown subject", server.PathSearchAction,
			obj{"subject": subject("nonexistent-user"), "resource": resource("record-1")},
			[]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := post(t, r.base+tc.path, tc.body)
			if g := ids(t, got); !reflect.DeepEqual(g, tc.want) {
				t.Fatalf("results = %v, want %v: %s", g, tc.want, got.raw)
			}
			if tok := nextToken(t, got); tok != "" {
				t.Fatalf("a complete result has an empty next_token, got %q", tok)
			}
			if c := got.body["page"].(map[string]any)["count"]; c != float64(len(tc.want)) {
				t.Errorf("page.count = %v", c)
			}
			for _, res := range got.body["results"].([]any) {
				if m := res.(map[string]any); m["type"] != nil && m["type"] != tc.body[strings.TrimPrefix(tc.path, "/access/v1/search/")].(obj)["type"] {
					t.Errorf("result %v has another type than requested", m)
				}
			}
		})
	}
}

// walk pages through a search and returns every result.
func walk(t *testing.T, url string, body obj, limit int) (all []string, pages int) {
	t.Helper()
	tok := ""
	for {
		b := obj{}
		for k, v := range body {
			b[k] = v
		}
		page := obj{"limit": limit}
		if tok != "" {
			page["token"] = tok
		}
		b["page"] = page
		got := post(t, url, b)
		res := ids(t, got)
		if len(res) > limit {
			t.Fatalf("page of %d results for limit %d", len(res), limit)
		}
		all = append(all, res...)
		pages++
		if tok = nextToken(t, got); tok == "" {
			return all, pages
		}
		if pages > 50 {
			t.Fatal("pagination does not end")
		}
	}
}

func TestSearchPagination(t *testing.T) {
	r := start(t)
	readers := obj{"subject": obj{"type": "user"}, "action": action("read"), "resource": resource("record-1")}
	all := []string{"alice", "bob", "carol", "dave", "erin"}
	for limit, wantPages := range map[int]int{1: 5, 2: 3, 5: 1, 100: 1} {
		got, pages := walk(t, r.base+server.PathSearchSubject, readers, limit)
		if !reflect.DeepEqual(got, all) || pages != wantPages {
			t.Errorf("limit %d: %v in %d pages, want %v in %d", limit, got, pages, all, wantPages)
		}
	}
	acts, pages := walk(t, r.base+server.PathSearchAction, obj{"subject": subject("alice"), "resource": resource("record-1")}, 1)
	if !reflect.DeepEqual(acts, []string{"read", "write"}) || pages != 2 {
		t.Errorf("actions %v in %d pages", acts, pages)
	}
	res, _ := walk(t, r.base+server.PathSearchResource, obj{"subject": subject("alice"), "action": action("write"), "resource": obj{"type": "record"}}, 1)
	if !reflect.DeepEqual(res, []string{"record-1", "record-3"}) {
		t.Errorf("resources %v", res)
	}

	// A token resumes only the search it came from.
	first := post(t, r.base+server.PathSearchSubject, obj{"subject": obj{"type": "user"}, "action": action("read"), "resource": resource("record-1"), "page": obj{"limit": 2}})
	tok := nextToken(t, first)
	other := post(t, r.base+server.PathSearchSubject, obj{"subject": obj{"type": "user"}, "action": action("write"), "resource": resource("record-1"), "page": obj{"token": tok}})
	if other.status != http.StatusBadRequest || !strings.Contains(other.body["error"].(string), "different search") {
		t.Fatalf("token reused on another search: %d %s", other.status, other.raw)
	}
	// Earlier drafts sent the token as page.next_token.
	second := post(t, r.base+server.PathSearchSubject, obj{"subject": obj{"type": "user"}, "action": action("read"), "resource": resource("record-1"), "page": obj{"next_token": tok, "limit": 2}})
	if g := ids(t, second); !reflect.DeepEqual(g, []string{"carol", "dave"}) {
		t.Fatalf("second page = %v", g)
	}
}

func TestSearchBudget(t *testing.T) {
	r := start(t, server.WithSearchBudget(2), server.WithSearchPageSize(10, 10))
	readers := obj{"subject": obj{"type": "user"}, "action": action("read"), "resource": resource("record-1")}
	first := post(t, r.base+server.PathSearchSubject, readers)
	if g := ids(t, first); len(g) > 2 || nextToken(t, first) == "" {
		t.Fatalf("a page past the budget must end early with a token: %v %s", g, first.raw)
	}
	got, _ := walk(t, r.base+server.PathSearchSubject, readers, 10)
	if !reflect.DeepEqual(got, []string{"alice", "bob", "carol", "dave", "erin"}) {
		t.Fatalf("walking a budget-bound search: %v", got)
	}
}

func TestSearchWithoutPIPs(t *testing.T) {
	set := testPIPs(t)
	r := startEngine(t, testEngine(t, set), server.WithInsecurePlaintext(), server.WithActionNames([]string{"write", "read", "read"}))
	got := post(t, r.base+server.PathSearchSubject, obj{"subject": obj{"type": "user"}, "action": action("read"), "resource": resource("record-1")})
	if g := ids(t, got); len(g) != 0 {
		t.Fatalf("no listers, no candidates: %v", g)
	}
	got = post(t, r.base+server.PathSearchAction, obj{"subject": subject("nobody"), "resource": resource("record-1")})
	if g := ids(t, got); !reflect.DeepEqual(g, []string{"read"}) {
		t.Fatalf("actions without listers (nothing to check the subject against) = %v", g)
	}
}

func TestSearchKnownTypes(t *testing.T) {
	// Untyped entities: any type matches until the policy's types are known.
	set := testPIPs(t)
	r := startEngine(t, testEngine(t, set), server.WithInsecurePlaintext(), server.WithPIPs(set))
	got := post(t, r.base+server.PathSearchResource, obj{"subject": subject("alice"), "action": action("read"), "resource": obj{"type": "anything"}})
	if g := ids(t, got); len(g) != 3 {
		t.Fatalf("untyped resources without known types: %v", g)
	}
	r = startEngine(t, testEngine(t, set), server.WithInsecurePlaintext(), server.WithPIPs(set), server.WithKnownTypes("urn:oasis:names:tc:xacml:3.0:attribute-category:resource", "record"))
	got = post(t, r.base+server.PathSearchResource, obj{"subject": subject("alice"), "action": action("read"), "resource": obj{"type": "anything"}})
	if g := ids(t, got); len(g) != 0 {
		t.Fatalf("a type the policy does not know: %v", g)
	}
	got = post(t, r.base+server.PathSearchResource, obj{"subject": subject("alice"), "action": action("read"), "resource": obj{"type": "record"}})
	if g := ids(t, got); len(g) != 3 {
		t.Fatalf("a known type: %v", g)
	}
}

func TestSearchPolicyEntityIDs(t *testing.T) {
	set := testPIPs(t)
	subj := "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"
	r := startEngine(t, testEngine(t, set), server.WithInsecurePlaintext(),
		server.WithActionNames([]string{"read", "write"}),
		server.WithPolicyEntityIDs(subj, "zed", "alice", "bob", "alice"),
		server.WithKnownTypes(subj, "user"))
	readers := obj{"subject": obj{"type": "user"}, "action": action("read"), "resource": resource("record-1")}
	if g := ids(t, post(t, r.base+server.PathSearchSubject, readers)); !reflect.DeepEqual(g, []string{"alice", "bob", "zed"}) {
		t.Fatalf("candidates from the policy = %v", g)
	}
	if got, pages := walk(t, r.base+server.PathSearchSubject, readers, 1); !reflect.DeepEqual(got, []string{"alice", "bob", "zed"}) || pages != 3 {
		t.Fatalf("paging the policy's ids: %v in %d pages", got, pages)
	}
	readers["subject"] = obj{"type": "spaceship"}
	if g := ids(t, post(t, r.base+server.PathSearchSubject, readers)); len(g) != 0 {
		t.Fatalf("an unknown type: %v", g)
	}
	if g := ids(t, post(t, r.base+server.PathSearchAction, obj{"subject": subject("nonexistent-user"), "resource": resource("record-1")})); len(g) != 0 {
		t.Fatalf("an id the policy does not name: %v", g)
	}
	if g := ids(t, post(t, r.base+server.PathSearchAction, obj{"subject": subject("alice"), "resource": resource("record-1")})); !reflect.DeepEqual(g, []string{"read", "write"}) {
		t.Fatalf("actions of a named subject: %v", g)
	}

	// A PIP that lists subjects takes precedence.
	r = startEngine(t, testEngine(t, set), server.WithInsecurePlaintext(), server.WithPIPs(set), server.WithPolicyEntityIDs(subj, "zed"))
	readers["subject"] = obj{"type": "user"}
	if g := ids(t, post(t, r.base+server.PathSearchSubject, readers)); !reflect.DeepEqual(g, []string{"alice", "bob", "carol", "dave", "erin"}) {
		t.Fatalf("with a lister: %v", g)
	}
}
