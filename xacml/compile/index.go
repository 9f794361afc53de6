package compile

import (
	"sort"
	"strconv"
	"strings"

	"github.com/verdict-authz/verdict/xacml"
)

// defaultIndexThreshold is the number of rules (or children) from which a
// combination goes through the target index: below it, evaluating every
// child is cheaper than the lookups.
const defaultIndexThreshold = 16

// index emits, into the current package, a target index over elements whose
// targets pin an attribute to literal values, and reports whether it did.
//
// OPA's rule indexer only helps with equality on variable-free references,
// while XACML attributes are bags; so the compiler builds its own index: for
// each indexable element, an AnyOf in its target whose every AllOf requires
// one attribute (same category, id and type, MustBePresent false) to equal a
// string literal. Unless the request's bag holds one of those literals, that
// AnyOf is NoMatch, hence the target, hence the element is NotApplicable,
// and the element need not be evaluated at all. The emitted rules are:
//
//	names := [...]     element rule names in document order
//	cands := [...]     ascending positions of the elements to evaluate
//
// cands falls back to every position when a keyed bag is undefined (a PIP
// failed), so that the failure reaches the elements as Indeterminate.
func (g *pkgGen) index(names []string, targets []*xacml.Target) bool {
	threshold := g.c.cfg.indexThreshold
	if threshold <= 0 {
		threshold = defaultIndexThreshold
	}
	if len(names) < threshold {
		return false
	}
	// byKey maps an attribute index to literal → positions.
	byKey := map[int]map[string][]int{}
	var always []string
	indexedAny := false
	for i, t := range targets {
		key, lits, ok := g.indexable(t)
		if !ok {
			always = append(always, strconv.Itoa(i))
			continue
		}
		indexedAny = true
		m := byKey[key]
		if m == nil {
			m = map[string][]int{}
			byKey[key] = m
		}
		for _, l := range lits {
			if ps := m[l]; len(ps) == 0 || ps[len(ps)-1] != i {
				m[l] = append(m[l], i)
			}
		}
	}
	if !indexedAny {
		return false
	}
	keys := make([]int, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = quote(n)
	}
	g.printf("\nnames := [%s]\n", strings.Join(quoted, ", "))
	var guards, sets []string
	if len(always) > 0 {
		sets = append(sets, "{"+strings.Join(always, ", ")+"}")
	}
	for _, k := range keys {
		m := byKey[k]
		lits := make([]string, 0, len(m))
		for l := range m {
			lits = append(lits, l)
		}
		sort.Strings(lits)
		var items []string
		for _, l := range lits {
			ps := make([]string, len(m[l]))
			for j, p := range m[l] {
				ps[j] = strconv.Itoa(p)
			}
			items = append(items, l+": ["+strings.Join(ps, ", ")+"]")
		}
		g.printf("\n_ix%d := {%s}\n", k, strings.Join(items, ", "))
		guards = append(guards, "\tk"+strconv.Itoa(k)+" := data.verdict.a.b"+strconv.Itoa(k)+"\n")
		sets = append(sets, "{i | some v in k"+strconv.Itoa(k)+"; some i in _ix"+strconv.Itoa(k)+"[v]}")
	}
	g.printf("\ncands := sort(x) if {\n%s\tx := %s\n} else := numbers.range(0, %d)\n", strings.Join(guards, ""), strings.Join(sets, " | "), len(names)-1)
	return true
}

// indexable finds an AnyOf of t that pins one attribute to string literals,
// returning the attribute's index and the literals as Rego terms.
func (g *pkgGen) indexable(t *xacml.Target) (int, []string, bool) {
	if t == nil {
		return 0, nil, false
	}
	for _, any := range t.AnyOf {
		if len(any.AllOf) == 0 {
			continue
		}
		key := -1
		var lits []string
		ok := true
		for _, all := range any.AllOf {
			found := false
			for _, m := range all.Matches {
				k, lit, good := g.indexableMatch(m)
				if !good || (key >= 0 && k != key) {
					continue
				}
				key, found = k, true
				lits = append(lits, lit)
				break
			}
			if !found {
				ok = false
				break
			}
		}
		if ok {
			return key, lits, true
		}
	}
	return 0, nil, false
}

// indexableMatch reports whether m is string equality between a literal and
// a designator that yields an empty bag (not an error) when absent.
func (g *pkgGen) indexableMatch(m *xacml.Match) (int, string, bool) {
	fi, ok := g.c.checked.Funcs.Lookup(m.FunctionID)
	if !ok || fi.Op != xacml.OpEqual {
		return 0, "", false
	}
	if fi.DataType != xacml.TypeString && fi.DataType != xacml.TypeAnyURI {
		return 0, "", false
	}
	d, ok := m.Attribute.(*xacml.AttributeDesignator)
	if !ok || d.MustBePresent || d.Issuer != "" || m.Value == nil {
		return 0, "", false
	}
	lit, err := literal(m.Value)
	if err != nil {
		return 0, "", false
	}
	return g.c.attr(d), lit, true
}
