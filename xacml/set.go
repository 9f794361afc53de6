package xacml

import (
	"fmt"
	"strings"
)

// Set is the collection of loaded top-level policies and policy sets that
// PolicyIdReference and PolicySetIdReference resolve against: what a PDP
// loaded from files or a bundle. It is immutable once built.
//
// Identity: a Policy and a PolicySet live in separate namespaces (the two
// reference elements name the kind), and versions are part of the identity
// as in XACML: the same PolicyId with two different Versions are two
// distinct policies, and a reference picks the latest version that
// satisfies its constraints. The same kind, identifier and version defined
// twice — at top level or nested inside a PolicySet — is refused. Only
// top-level policies are targets of references.
type Set struct {
	policies []Evaluable
	byID     map[setKey][]Evaluable
}

// setKey identifies a policy for references: its kind and identifier.
type setKey struct {
	kind PolicyKind
	id   string
}

// NewSet indexes policies and refuses duplicate definitions (same kind,
// identifier and version) anywhere among them, inline ones included.
func NewSet(policies []Evaluable) (*Set, error) {
	s := &Set{byID: map[setKey][]Evaluable{}}
	var errs errorList
	seen := map[string]Pos{}
	var visit func(e Evaluable)
	visit = func(e Evaluable) {
		id, version := e.Identity()
		key := fmt.Sprintf("%d\x00%s\x00%s", e.Kind(), id, normalizeVersion(version))
		if first, dup := seen[key]; dup {
			errs.add(e.Position(), ErrDuplicateID, "duplicate %sId %q version %s (first defined at %s)",
				e.Kind(), id, version, strings.TrimSuffix(posPrefix(first), ":"))
		} else {
			seen[key] = e.Position()
		}
		if ps, ok := e.(*PolicySet); ok {
			for _, c := range ps.Children {
				if child, ok := c.(Evaluable); ok {
					visit(child)
				}
			}
		}
	}
	for _, e := range policies {
		if e == nil {
			continue
		}
		visit(e)
		s.policies = append(s.policies, e)
		id, _ := e.Identity()
		k := setKey{e.Kind(), id}
		s.byID[k] = append(s.byID[k], e)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// normalizeVersion makes "1.0" and "01.0" the same identity.
func normalizeVersion(v string) string {
	if !ValidVersion(v) {
		return v
	}
	parts := strings.Split(v, ".")
	for i, p := range parts {
		if p = strings.TrimLeft(p, "0"); p == "" {
			p = "0"
		}
		parts[i] = p
	}
	return strings.Join(parts, ".")
}

// Policies returns the top-level policies in load order.
func (s *Set) Policies() []Evaluable { return append([]Evaluable(nil), s.policies...) }

// Resolve returns the policy or policy set a reference designates: the
// top-level one of the reference's kind and identifier whose version
// satisfies Version, EarliestVersion and LatestVersion, the latest such
// version when several do.
func (s *Set) Resolve(ref *Reference) (Evaluable, error) {
	for _, m := range []string{ref.Version, ref.EarliestVersion, ref.LatestVersion} {
		if m != "" && !ValidVersionMatch(m) {
			return nil, newError(ref.Pos, ErrSyntax, "version constraint %q is not a version match (e.g. 1.0, 1.*, 2.+)", m)
		}
	}
	var best Evaluable
	bestVersion := ""
	candidates := s.byID[setKey{ref.Kind, ref.ID}]
	for _, e := range candidates {
		_, v := e.Identity()
		if !VersionSatisfies(v, ref) {
			continue
		}
		if best == nil || CompareVersions(v, bestVersion) > 0 {
			best, bestVersion = e, v
		}
	}
	if best != nil {
		return best, nil
	}
	if len(candidates) > 0 {
		return nil, newError(ref.Pos, ErrReference, "no loaded %s %q has a version matching %s", ref.Kind, ref.ID, describeConstraints(ref))
	}
	other := KindPolicySet
	if ref.Kind == KindPolicySet {
		other = KindPolicy
	}
	if len(s.byID[setKey{other, ref.ID}]) > 0 {
		return nil, newError(ref.Pos, ErrReference, "%q is a %s, not a %s: use %sIdReference", ref.ID, other, ref.Kind, other)
	}
	return nil, newError(ref.Pos, ErrReference, "no loaded %s has %sId %q", ref.Kind, ref.Kind, ref.ID)
}

func describeConstraints(ref *Reference) string {
	var parts []string
	if ref.Version != "" {
		parts = append(parts, "Version="+ref.Version)
	}
	if ref.EarliestVersion != "" {
		parts = append(parts, "EarliestVersion="+ref.EarliestVersion)
	}
	if ref.LatestVersion != "" {
		parts = append(parts, "LatestVersion="+ref.LatestVersion)
	}
	return strings.Join(parts, ", ")
}

// FindRoot picks the root of a service's policies: the one named rootID
// (a PolicyId or PolicySetId; the latest version if several are loaded),
// or, when rootID is empty, the only top-level policy that no loaded
// policy references.
func FindRoot(policies []Evaluable, rootID string) (Evaluable, error) {
	if rootID != "" {
		var found Evaluable
		for _, e := range policies {
			id, v := e.Identity()
			if id != rootID {
				continue
			}
			if found != nil {
				if found.Kind() != e.Kind() {
					return nil, newError(e.Position(), ErrReference, "both a Policy and a PolicySet have the identifier %q", rootID)
				}
				if _, fv := found.Identity(); CompareVersions(v, fv) <= 0 {
					continue
				}
			}
			found = e
		}
		if found == nil {
			return nil, newError(Pos{}, ErrReference, "no loaded policy or policy set has the identifier %q", rootID)
		}
		return found, nil
	}
	var refs []*Reference
	for _, e := range policies {
		refs = collectReferences(e, refs)
	}
	var roots []Evaluable
	for _, e := range policies {
		id, v := e.Identity()
		referenced := false
		for _, r := range refs {
			if r.Kind == e.Kind() && r.ID == id && VersionSatisfies(v, r) {
				referenced = true
				break
			}
		}
		if !referenced {
			roots = append(roots, e)
		}
	}
	switch len(roots) {
	case 1:
		return roots[0], nil
	case 0:
		if len(policies) == 0 {
			return nil, newError(Pos{}, ErrReference, "no policies loaded")
		}
		return nil, newError(policies[0].Position(), ErrCircularReference, "every loaded policy is referenced by another: no root")
	}
	ids := make([]string, len(roots))
	for i, r := range roots {
		ids[i], _ = r.Identity()
	}
	return nil, newError(roots[1].Position(), ErrReference, "several policies are referenced by none (%s): name the root", strings.Join(ids, ", "))
}

// collectReferences appends every Reference inside e, nested sets included.
func collectReferences(e Evaluable, refs []*Reference) []*Reference {
	ps, ok := e.(*PolicySet)
	if !ok {
		return refs
	}
	for _, c := range ps.Children {
		switch c := c.(type) {
		case *Reference:
			refs = append(refs, c)
		case *PolicySet:
			refs = collectReferences(c, refs)
		}
	}
	return refs
}
