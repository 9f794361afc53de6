package pdp

import (
	"time"

	"github.com/verdict-authz/verdict/pip"
)

// Effect is the XACML decision.
type Effect string

// The four XACML decisions.
const (
	EffectPermit        Effect = "Permit"
	EffectDeny          Effect = "Deny"
	EffectNotApplicable Effect = "NotApplicable"
	EffectIndeterminate Effect = "Indeterminate"
)

// Status codes of a decision.
const (
	StatusOK               = "urn:oasis:names:tc:xacml:1.0:status:ok"
	StatusMissingAttribute = "urn:oasis:names:tc:xacml:1.0:status:missing-attribute"
	StatusProcessingError  = "urn:oasis:names:tc:xacml:1.0:status:processing-error"
	StatusSyntaxError      = "urn:oasis:names:tc:xacml:1.0:status:syntax-error"
)

// Decision is the engine's answer, with everything an auditor needs to
// explain it.
type Decision struct {
	// ID identifies the decision in logs and audit queries.
	ID string
	// Effect is Permit, Deny, NotApplicable or Indeterminate.
	Effect Effect
	// Extended qualifies an Indeterminate: "D", "P" or "DP" (XACML 3.0 7.10).
	Extended string
	Status   Status
	// Obligations and Advice are those of the decision's effect.
	Obligations []Obligation
	Advice      []Obligation
	// PolicyIDs lists the applicable policies when the request asked.
	PolicyIDs []PolicyID
	// Revision and Digest identify the policy that decided.
	Revision uint64
	Digest   string
	// PIPValues are the attribute fetches made for this decision.
	PIPValues []pip.Record
	// Duration is the evaluation time.
	Duration time.Duration
}

// Status is a status code with an optional message.
type Status struct {
	Code    string
	Message string
}

// Obligation is an obligation or an advice: an id and attribute assignments.
type Obligation struct {
	ID          string
	Assignments []Assignment
}

// Assignment is one AttributeAssignment of an obligation or advice.
type Assignment struct {
	AttributeID string
	Category    string
	Issuer      string
	// Type is the short data type name.
	Type string
	// Value is the lexical form.
	Value string
}

// PolicyID identifies an applicable policy.
type PolicyID struct {
	// Kind is "Policy" or "PolicySet".
	Kind    string
	ID      string
	Version string
}
