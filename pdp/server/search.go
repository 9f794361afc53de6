package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pip"
)

// searchKind says which entity a search looks for.
type searchKind int

const (
	searchSubject searchKind = iota
	searchResource
	searchAction
)

func (k searchKind) String() string {
	return [...]string{"subject", "resource", "action"}[k]
}

// requirement is what the search needs of the request: the searched
// entity's id (or the whole action) may be omitted and is ignored.
func (k searchKind) requirement() requirement {
	r := fullRequirement
	switch k {
	case searchSubject:
		r.subjectID = false
	case searchResource:
		r.resourceID = false
	case searchAction:
		r.action = false
	}
	return r
}

// searchResponse is an AuthZEN search response.
type searchResponse struct {
	Results []map[string]string `json:"results"`
	Page    pageResponse        `json:"page"`
}

type pageResponse struct {
	NextToken string `json:"next_token"`
	Count     int    `json:"count"`
}

// position is where a search resumes: after key After of candidate
// source Source (for actions, Source is 0 and After the last name).
type position struct {
	Version     int    `json:"v"`
	Source      int    `json:"s"`
	After       string `json:"a,omitempty"`
	Fingerprint string `json:"f"`
}

func (p position) token() string {
	b, _ := json.Marshal(p)
	return base64.RawURLEncoding.EncodeToString(b)
}

// fingerprint identifies a search (kind and request without its page), so
// that a token cannot resume a different search.
func fingerprint(kind searchKind, body map[string]any) string {
	rest := make(map[string]any, len(body))
	for k, v := range body {
		if k != "page" {
			rest[k] = v
		}
	}
	b, _ := json.Marshal(rest)
	sum := sha256.Sum256(append([]byte(kind.String()+"\n"), b...))
	return hex.EncodeToString(sum[:8])
}

// parsePage reads the optional page object: token (next_token is accepted
// too, as earlier drafts used it) and limit.
func (s *Server) parsePage(v any, fp string) (position, int, *apiError) {
	pos := position{Version: 1, Fingerprint: fp}
	limit := s.cfg.pageSize
	if v == nil {
		return pos, limit, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return pos, 0, badRequest("page must be an object, got %s", jsonKind(v))
	}
	if l, ok := m["limit"]; ok && l != nil {
		n, isNum := l.(json.Number)
		f, err := n.Float64()
		if !isNum || err != nil || f < 0 || f != math.Trunc(f) {
			return pos, 0, badRequest("page.limit must be a non-negative integer, got %s", jsonKind(l))
		}
		if f > 0 {
			limit = int(min(f, float64(s.cfg.maxPageSize)))
		}
	}
	tok := m["token"]
	if tok == nil {
		tok = m["next_token"]
	}
	if tok == nil {
		return pos, limit, nil
	}
	str, ok := tok.(string)
	if !ok {
		return pos, 0, badRequest("page.token must be a string, got %s", jsonKind(tok))
	}
	if str == "" {
		return pos, limit, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(str)
	var got position
	if err == nil {
		err = json.Unmarshal(b, &got)
	}
	if err != nil || got.Version != 1 || got.Source < 0 {
		return pos, 0, badRequest("page.token is not a page token issued by this PDP")
	}
	if got.Fingerprint != fp {
		return pos, 0, badRequest("page.token belongs to a different search (the request changed)")
	}
	return got, limit, nil
}

// searchHandler serves one of the AuthZEN search endpoints.
func (s *Server) searchHandler(kind searchKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := s.withDeadline(r.Context())
		defer cancel()
		weight := s.bodyWeight(r)
		err := s.acquireBody(ctx, weight)
		if err != nil {
			writeError(w, decisionError(err))
			return
		}
		defer s.releaseBody(weight)
		body, aerr := s.readJSONObject(w, r)
		if aerr == nil && s.cfg.rejectUnknown {
			aerr = checkKnown(body, "subject", "action", "resource", "context", "page")
		}
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		ev, aerr := parseEvaluation(body, "")
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		if err := ev.check("", kind.requirement()); err != nil {
			writeError(w, badRequest("%v", err))
			return
		}
		pos, limit, aerr := s.parsePage(body["page"], fingerprint(kind, body))
		if aerr != nil {
			writeError(w, aerr)
			return
		}
		resp, err := s.search(ctx, kind, ev, pos, limit)
		if err != nil {
			writeError(w, decisionError(err))
			return
		}
		writeJSON(w, http.StatusOK, resp)
	}
}

// lister is one PIP source that can enumerate entities of a category.
type lister struct {
	name   string
	lister pip.Lister
	typ    string
}

// listers returns the sources that enumerate entities of category keyed
// by their "id", in the set's order; without any, the ids the policy
// names (WithPolicyEntityIDs), if any.
func (s *Server) listers(category string) []lister {
	var out []lister
	var sources []pip.Source
	if s.cfg.pips != nil {
		sources = s.cfg.pips.Sources()
	}
	for _, src := range sources {
		d := src.Description
		if d.SuppliedCategory() != category || d.Key.Category != category || d.Key.ID != "id" {
			continue
		}
		l, ok := pip.As[pip.Lister](src.Provider)
		if !ok {
			continue
		}
		out = append(out, lister{name: src.Name, lister: l, typ: s.cfg.sourceTypes[src.Name]})
	}
	if len(out) == 0 && len(s.cfg.policyIDs[category]) > 0 {
		out = append(out, lister{name: "policy", lister: newStaticLister(category, s.cfg.policyIDs[category])})
	}
	return out
}

// staticLister lists a fixed set of entity ids without attributes.
type staticLister struct {
	category string
	keys     []string
}

func newStaticLister(category string, ids []string) staticLister {
	keys := slices.Clone(ids)
	sort.Strings(keys)
	return staticLister{category: category, keys: slices.Compact(keys)}
}

// List implements pip.Lister.
func (l staticLister) List(_ context.Context, q pip.ListQuery) (pip.Page, error) {
	if q.Category != l.category {
		return pip.Page{}, fmt.Errorf("%w: %q", pip.ErrWrongCategory, q.Category)
	}
	start := sort.SearchStrings(l.keys, q.After)
	if start < len(l.keys) && l.keys[start] == q.After {
		start++
	}
	end := len(l.keys)
	if q.Limit > 0 && start+q.Limit < end {
		end = start + q.Limit
	}
	var page pip.Page
	for _, k := range l.keys[start:end] {
		page.Entities = append(page.Entities, pip.Entity{Key: k})
	}
	if end < len(l.keys) && end > start {
		page.Next = l.keys[end-1]
	}
	return page, nil
}

// listPage is how many entities a search asks a lister for at once.
const listPage = 256

// search runs one page of a search.
func (s *Server) search(ctx context.Context, kind searchKind, ev evaluation, pos position, limit int) (searchResponse, error) {
	resp := searchResponse{Results: []map[string]string{}}
	// The fixed entities must exist where they can be looked up.
	if kind != searchSubject {
		if ok, err := s.exists(ctx, pdp.CategorySubject, ev.subject.str("id")); err != nil || !ok {
			return resp, err
		}
	}
	if kind != searchResource {
		if ok, err := s.exists(ctx, pdp.CategoryResource, ev.resource.str("id")); err != nil || !ok {
			return resp, err
		}
	}
	budget := s.cfg.searchBudget
	type hit struct {
		result map[string]string
		pos    position
	}
	var hits []hit
	last := pos
	// try evaluates one candidate; it reports whether the page is full.
	try := func(cand evaluation, result map[string]string, at position) (bool, error) {
		budget--
		last = at
		req, err := cand.request()
		if err != nil {
			return false, nil // a candidate the engine cannot type is not a result
		}
		d, err := s.decide(ctx, req)
		if errors.Is(err, pdp.ErrBadRequest) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if d.Effect == pdp.EffectPermit {
			hits = append(hits, hit{result, at})
		}
		return len(hits) > limit, nil
	}
	exhausted := true
	switch kind {
	case searchAction:
		names := slices.Clone(s.cfg.actions)
		sort.Strings(names)
		names = slices.Compact(names)
		start := 0
		if pos.After != "" {
			start = sort.SearchStrings(names, pos.After)
			if start < len(names) && names[start] == pos.After {
				start++
			}
		}
		for _, n := range names[start:] {
			if budget <= 0 {
				exhausted = false
				break
			}
			cand := ev
			cand.action = &entity{fields: map[string]any{"name": n}}
			full, err := try(cand, map[string]string{"name": n}, position{Version: 1, After: n, Fingerprint: pos.Fingerprint})
			if err != nil {
				return resp, err
			}
			if full {
				exhausted = false
				break
			}
		}
	default:
		category, searched := pdp.CategorySubject, ev.subject
		if kind == searchResource {
			category, searched = pdp.CategoryResource, ev.resource
		}
		want := searched.str("type")
		srcs := s.listers(category)
		known := s.knownTypes(category, srcs)
	sources:
		for si := pos.Source; si < len(srcs); si++ {
			after := ""
			if si == pos.Source {
				after = pos.After
			}
			for {
				if budget <= 0 {
					exhausted = false
					break sources
				}
				page, err := srcs[si].lister.List(ctx, pip.ListQuery{Category: category, After: after, Limit: min(listPage, budget), Attributes: []string{"type"}})
				if err != nil {
					return resp, fmt.Errorf("search: list %s: %w", srcs[si].name, err)
				}
				for _, e := range page.Entities {
					if budget <= 0 {
						exhausted = false
						break sources
					}
					at := position{Version: 1, Source: si, After: e.Key, Fingerprint: pos.Fingerprint}
					if !typeMatches(e, srcs[si].typ, known, want) {
						budget--
						last = at
						continue
					}
					cand := ev
					c := &entity{fields: make(map[string]any, len(searched.fields)+1), props: searched.props}
					for k, v := range searched.fields {
						c.fields[k] = v
					}
					c.fields["id"] = e.Key
					if kind == searchSubject {
						cand.subject = c
					} else {
						cand.resource = c
					}
					full, err := try(cand, map[string]string{"type": want, "id": e.Key}, at)
					if err != nil {
						return resp, err
					}
					if full {
						exhausted = false
						break sources
					}
				}
				if page.Next == "" {
					break
				}
				after = page.Next
			}
		}
	}
	switch {
	case len(hits) > limit:
		// One more result exists: the next page starts after the last one kept.
		hits = hits[:limit]
		resp.Page.NextToken = hits[limit-1].pos.token()
	case !exhausted:
		// The budget ran out: resume after the last candidate examined.
		resp.Page.NextToken = last.token()
	}
	for _, h := range hits {
		resp.Results = append(resp.Results, h.result)
	}
	resp.Page.Count = len(resp.Results)
	return resp, nil
}

// knownTypes are the types declared for category: WithKnownTypes and the
// entity types of its sources.
func (s *Server) knownTypes(category string, srcs []lister) []string {
	out := slices.Clone(s.cfg.knownTypes[category])
	for _, l := range srcs {
		if l.typ != "" {
			out = append(out, l.typ)
		}
	}
	return out
}

// typeMatches decides whether entity e (of a source with entity type
// srcType) is of the requested type want.
func typeMatches(e pip.Entity, srcType string, known []string, want string) bool {
	if ts := e.Values["type"]; len(ts) > 0 {
		for _, t := range ts {
			if s, ok := t.(string); ok && s == want {
				return true
			}
		}
		return false
	}
	if srcType != "" {
		return srcType == want
	}
	return len(known) == 0 || slices.Contains(known, want)
}

// exists reports whether the entity of category with id key is known to
// the listers of that category; true when the category has no lister
// (nothing to look it up in: the policy decides).
func (s *Server) exists(ctx context.Context, category, key string) (bool, error) {
	srcs := s.listers(category)
	if len(srcs) == 0 {
		return true, nil
	}
	for _, src := range srcs {
		// Start just below key: the predecessor with the last byte
		// decremented sorts before key and before few other keys.
		after := key[:len(key)-1]
		if b := key[len(key)-1]; b > 0 {
			after += string([]byte{b - 1})
		}
	scan:
		for range 64 {
			page, err := src.lister.List(ctx, pip.ListQuery{Category: category, After: after, Limit: 64, Attributes: []string{"type"}})
			if err != nil {
				return false, fmt.Errorf("search: list %s: %w", src.name, err)
			}
			for _, e := range page.Entities {
				switch {
				case e.Key == key:
					return true, nil
				case e.Key > key:
					break scan
				}
			}
			if page.Next == "" {
				break
			}
			after = page.Next
		}
	}
	return false, nil
}
