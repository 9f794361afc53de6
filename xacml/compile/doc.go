// Package compile turns a checked XACML 3.0 policy tree into Rego (OPA v1
// syntax). It is a pure function of the model: no I/O, no evaluation.
//
// # The evaluation contract
//
// The emitted modules are evaluated by the PDP with the builtins of
// pdp/xacmlfn (XACML primitive functions Rego lacks) and one engine builtin,
// verdict.pip, that fetches attributes the request lacks. The contract is:
//
//   - input.a[category][attributeId][type] is the bag (array) of values of
//     an attribute, and input.ai[category][attributeId][type][issuer] the
//     same restricted to an issuer; type is a short data type name
//     ("string", "dateTime") and values use the pdp/xacmlfn representation.
//   - data.verdict.main.result is the decision of the root policy: an
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
