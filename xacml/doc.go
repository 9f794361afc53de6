// Package xacml is Verdict's authoring language: the XACML 3.0 core model,
// its XML parser, the concise YAML form of the same model, and load-time
// validation (references, cycles, duplicate identifiers, static types).
//
// The model is deliberately plain data. Parsing produces it, validation
// checks it, and xacml/compile turns it into Rego; nothing here evaluates a
// policy, because the only evaluation path is the compiled one.
package xacml
