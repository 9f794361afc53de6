package pdp

// Policy is a compiled policy as the engine runs it: Rego modules in the
// xacml/compile contract plus what the engine needs to type request values.
type Policy struct {
	// Service names the service the policy protects.
	Service string
	// Revision is the PAP revision (0 for policies compiled locally).
	Revision uint64
	// Digest identifies the content (the bundle digest), for logs and heartbeats.
	Digest string
	// Modules maps file paths to Rego sources.
	Modules map[string]string
	// Attributes lists the attributes the policy designates.
	Attributes []AttributeSpec
	// AttributesComplete says that Attributes lists every attribute the
	// policy reads, as for compiled policies: the engine then leaves the
	// request's other attributes out of the evaluation input.
	AttributesComplete bool
	// RootID is the PolicyId or PolicySetId of the root.
	RootID string
}

// AttributeSpec is one attribute a policy designates. The engine uses the
// list to coerce untyped (JSON) request values into the types the policy
// asks for, and to know which attributes a PIP may have to supply.
type AttributeSpec struct {
	Category string `json:"category"`
	ID       string `json:"id"`
	// Type is the short data type name ("string", "dateTime").
	Type   string `json:"type"`
	Issuer string `json:"issuer,omitempty"`
}
