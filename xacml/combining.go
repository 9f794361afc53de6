package xacml

import "strings"

// Rule-combining algorithm identifiers (XACML 3.0 Appendix C, and the 1.0/1.1
// identifiers 3.0 keeps as legacy). The compiler switches on these.
const (
	RuleAlgDenyOverrides          = "urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-overrides"
	RuleAlgPermitOverrides        = "urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-overrides"
	RuleAlgOrderedDenyOverrides   = "urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:ordered-deny-overrides"
	RuleAlgOrderedPermitOverrides = "urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:ordered-permit-overrides"
	RuleAlgDenyUnlessPermit       = "urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:deny-unless-permit"
	RuleAlgPermitUnlessDeny       = "urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:permit-unless-deny"
	RuleAlgFirstApplicable        = "urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:first-applicable"

	RuleAlgLegacyDenyOverrides          = "urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:deny-overrides"
	RuleAlgLegacyPermitOverrides        = "urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:permit-overrides"
	RuleAlgLegacyOrderedDenyOverrides   = "urn:oasis:names:tc:xacml:1.1:rule-combining-algorithm:ordered-deny-overrides"
	RuleAlgLegacyOrderedPermitOverrides = "urn:oasis:names:tc:xacml:1.1:rule-combining-algorithm:ordered-permit-overrides"
)

// Policy-combining algorithm identifiers (XACML 3.0 Appendix C, and the
// 1.0/1.1 legacy identifiers).
const (
	PolicyAlgDenyOverrides          = "urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-overrides"
	PolicyAlgPermitOverrides        = "urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:permit-overrides"
	PolicyAlgOrderedDenyOverrides   = "urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:ordered-deny-overrides"
	PolicyAlgOrderedPermitOverrides = "urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:ordered-permit-overrides"
	PolicyAlgDenyUnlessPermit       = "urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:deny-unless-permit"
	PolicyAlgPermitUnlessDeny       = "urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:permit-unless-deny"
	PolicyAlgFirstApplicable        = "urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:first-applicable"
	PolicyAlgOnlyOneApplicable      = "urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:only-one-applicable"

	PolicyAlgLegacyDenyOverrides          = "urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:deny-overrides"
	PolicyAlgLegacyPermitOverrides        = "urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:permit-overrides"
	PolicyAlgLegacyOrderedDenyOverrides   = "urn:oasis:names:tc:xacml:1.1:policy-combining-algorithm:ordered-deny-overrides"
	PolicyAlgLegacyOrderedPermitOverrides = "urn:oasis:names:tc:xacml:1.1:policy-combining-algorithm:ordered-permit-overrides"
)

// CombiningAlgInfo describes one combining algorithm, so that validation,
// the YAML short names and the compiler agree on a single list.
type CombiningAlgInfo struct {
	ID string
	// Short is the YAML name ("deny-overrides"); legacy algorithms have
	// none and are written with their full identifier.
	Short string
	// ForPolicies is false for rule-combining and true for policy-combining
	// algorithms.
	ForPolicies bool
	// Legacy marks the XACML 1.0/1.1 identifiers, whose "overrides"
	// algorithms lack the extended Indeterminate values of 3.0.
	Legacy bool
}

// CombiningAlgorithms lists every combining algorithm Verdict implements.
// It returns a fresh slice each time (the package keeps no global tables).
func CombiningAlgorithms() []CombiningAlgInfo {
	return []CombiningAlgInfo{
		{RuleAlgDenyOverrides, "deny-overrides", false, false},
		{RuleAlgPermitOverrides, "permit-overrides", false, false},
		{RuleAlgOrderedDenyOverrides, "ordered-deny-overrides", false, false},
		{RuleAlgOrderedPermitOverrides, "ordered-permit-overrides", false, false},
		{RuleAlgDenyUnlessPermit, "deny-unless-permit", false, false},
		{RuleAlgPermitUnlessDeny, "permit-unless-deny", false, false},
		{RuleAlgFirstApplicable, "first-applicable", false, false},
		{RuleAlgLegacyDenyOverrides, "", false, true},
		{RuleAlgLegacyPermitOverrides, "", false, true},
		{RuleAlgLegacyOrderedDenyOverrides, "", false, true},
		{RuleAlgLegacyOrderedPermitOverrides, "", false, true},

		{PolicyAlgDenyOverrides, "deny-overrides", true, false},
		{PolicyAlgPermitOverrides, "permit-overrides", true, false},
		{PolicyAlgOrderedDenyOverrides, "ordered-deny-overrides", true, false},
		{PolicyAlgOrderedPermitOverrides, "ordered-permit-overrides", true, false},
		{PolicyAlgDenyUnlessPermit, "deny-unless-permit", true, false},
		{PolicyAlgPermitUnlessDeny, "permit-unless-deny", true, false},
		{PolicyAlgFirstApplicable, "first-applicable", true, false},
		{PolicyAlgOnlyOneApplicable, "only-one-applicable", true, false},
		{PolicyAlgLegacyDenyOverrides, "", true, true},
		{PolicyAlgLegacyPermitOverrides, "", true, true},
		{PolicyAlgLegacyOrderedDenyOverrides, "", true, true},
		{PolicyAlgLegacyOrderedPermitOverrides, "", true, true},
	}
}

// LookupCombiningAlg returns the algorithm with identifier id for rules
// (forPolicies false) or policies (true).
func LookupCombiningAlg(id string, forPolicies bool) (CombiningAlgInfo, bool) {
	for _, a := range CombiningAlgorithms() {
		if a.ID == id && a.ForPolicies == forPolicies {
			return a, true
		}
	}
	return CombiningAlgInfo{}, false
}

// combiningAlgByName resolves a YAML name: a short name, or a full identifier.
// Unknown names are returned unchanged so that validation reports them.
func combiningAlgByName(name string, forPolicies bool) string {
	for _, a := range CombiningAlgorithms() {
		if a.ForPolicies == forPolicies && a.Short != "" && a.Short == name {
			return a.ID
		}
	}
	return name
}

// combiningAlgShortName is the inverse of combiningAlgByName for the writer.
func combiningAlgShortName(id string, forPolicies bool) string {
	if a, ok := LookupCombiningAlg(id, forPolicies); ok && a.Short != "" {
		return a.Short
	}
	return id
}

// otherKindAlg reports whether id is a combining algorithm of the other
// kind, to explain a rule algorithm used on a PolicySet (or the reverse).
func otherKindAlg(id string, forPolicies bool) bool {
	_, ok := LookupCombiningAlg(id, !forPolicies)
	return ok || (forPolicies && strings.Contains(id, ":rule-combining-algorithm:")) ||
		(!forPolicies && strings.Contains(id, ":policy-combining-algorithm:"))
}
