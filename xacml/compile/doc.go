// Package compile turns a checked XACML 3.0 policy tree into Rego (OPA v1
// syntax). It is a pure function of the model: no I/O, no evaluation.
//
// # The evaluation contract
//
// The emitted modules are evaluated by the PDP with the builtins of
// pdp/xacmlfn (XACML primitive functions Rego lacks) and one engine builtin,
// verdict.pip, that fetches attributes the request lacks. The contract is:
//
//   - input["<i>"] is the bag (array) of values of the i-th attribute of
//     Output.Attributes (category, id, short data type such as "string" or
//     "dateTime", and issuer when the designator names one: then only
//     values of that issuer), in the pdp/xacmlfn representation. A flat
//     object keyed by position is cheap to build and to look up, and OPA's
//     rule index can see tests on it. An absent key means the request
//     lacks the attribute: the policy then asks verdict.pip.
//   - data.verdict.main is the root element's own package. Its result is
//     the decision: a bare code "P", "D" or "NA" when nothing else is to
//     be said, otherwise an
//     object {"d": code, "s": status, "o": obligations, "a": advice} where
//     code is "P", "D", "NA", "IP", "ID" or "IDP" (the XACML 3.0 extended
//     Indeterminate values), s is a status code URI (Indeterminate only),
//     and obligations/advice are arrays of {"id": ..., "as": [assignment]}
//     with assignment {"id", "c" (category), "i" (issuer), "t" (short type), "v"}.
//   - data.verdict.main.policy_ids lists the applicable policies as
//     {"k": "Policy"|"PolicySet", "id": ..., "v": version}.
//
// # How XACML semantics map to Rego
//
// An XACML Indeterminate is a Rego undefined: every expression is a chain of
// calls, so an error anywhere (a missing required attribute, a builtin that
// fails, a PIP that cannot answer) makes the whole expression undefined.
// Where XACML must tell Indeterminate apart from false (targets, conditions,
// and/or/n-of, higher-order functions) the generated code catches the
// undefined with an else branch or a one-element comprehension. Combining
// algorithms are Rego functions over the children's result objects.
package compile
