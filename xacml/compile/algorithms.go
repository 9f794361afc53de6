package compile

import (
	"fmt"

	"github.com/verdict-authz/verdict/xacml"
)

// Combining algorithm identifiers (XACML 3.0 appendix C and the legacy 1.x ones).
const (
	ruleAlg3  = "urn:oasis:names:tc:xacml:3.0:rule-combining-algorithm:"
	polAlg3   = "urn:oasis:names:tc:xacml:3.0:policy-combining-algorithm:"
	ruleAlg1  = "urn:oasis:names:tc:xacml:1.0:rule-combining-algorithm:"
	polAlg1   = "urn:oasis:names:tc:xacml:1.0:policy-combining-algorithm:"
	ruleAlg11 = "urn:oasis:names:tc:xacml:1.1:rule-combining-algorithm:"
	polAlg11  = "urn:oasis:names:tc:xacml:1.1:policy-combining-algorithm:"
)

// combiner names the prelude function implementing an algorithm.
type combiner struct {
	fn string
	// onlyOne marks only-one-applicable, which also needs the children's targets.
	onlyOne bool
}

// combinerFor maps a combining algorithm to its prelude function. Ordered
// variants share the unordered implementation: Verdict evaluates every child
// in document order and combines deterministically, which satisfies both.
func combinerFor(alg string, kind xacml.PolicyKind) (combiner, error) {
	if kind == xacml.KindPolicy {
		switch alg {
		case ruleAlg3 + "deny-overrides", ruleAlg3 + "ordered-deny-overrides":
			return combiner{fn: "deny_overrides"}, nil
		case ruleAlg3 + "permit-overrides", ruleAlg3 + "ordered-permit-overrides":
			return combiner{fn: "permit_overrides"}, nil
		case ruleAlg3 + "deny-unless-permit":
			return combiner{fn: "deny_unless_permit"}, nil
		case ruleAlg3 + "permit-unless-deny":
			return combiner{fn: "permit_unless_deny"}, nil
		case ruleAlg1 + "first-applicable":
			return combiner{fn: "first_applicable"}, nil
		case ruleAlg1 + "deny-overrides", ruleAlg11 + "ordered-deny-overrides":
			return combiner{fn: "legacy_rule_deny_overrides"}, nil
		case ruleAlg1 + "permit-overrides", ruleAlg11 + "ordered-permit-overrides":
			return combiner{fn: "legacy_rule_permit_overrides"}, nil
		}
		return combiner{}, fmt.Errorf("unknown rule-combining algorithm %q", alg)
	}
	switch alg {
	case polAlg3 + "deny-overrides", polAlg3 + "ordered-deny-overrides":
		return combiner{fn: "deny_overrides"}, nil
	case polAlg3 + "permit-overrides", polAlg3 + "ordered-permit-overrides":
		return combiner{fn: "permit_overrides"}, nil
	case polAlg3 + "deny-unless-permit":
		return combiner{fn: "deny_unless_permit"}, nil
	case polAlg3 + "permit-unless-deny":
		return combiner{fn: "permit_unless_deny"}, nil
	case polAlg1 + "first-applicable":
		return combiner{fn: "first_applicable"}, nil
	case polAlg1 + "only-one-applicable":
		return combiner{fn: "only_one_applicable", onlyOne: true}, nil
	case polAlg1 + "deny-overrides", polAlg11 + "ordered-deny-overrides":
		return combiner{fn: "legacy_policy_deny_overrides"}, nil
	case polAlg1 + "permit-overrides", polAlg11 + "ordered-permit-overrides":
		return combiner{fn: "legacy_policy_permit_overrides"}, nil
	}
	return combiner{}, fmt.Errorf("unknown policy-combining algorithm %q", alg)
}
