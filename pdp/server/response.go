package server

import (
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/xacmlfn"
)

// evaluationResponse is an AuthZEN Access Evaluation response.
type evaluationResponse struct {
	Decision bool             `json:"decision"`
	Context  *decisionContext `json:"context,omitempty"`
}

// decisionContext explains a decision: everything but a plain Permit has
// one, so that a PEP and an operator can tell a Deny from NotApplicable
// and from an Indeterminate (a failure), and so that obligations reach the
// PEP that must fulfil them.
type decisionContext struct {
	DecisionID  string            `json:"decision_id,omitempty"`
	XACML       string            `json:"xacml_decision,omitempty"`
	Status      *statusJSON       `json:"status,omitempty"`
	ReasonAdmin map[string]string `json:"reason_admin,omitempty"`
	Obligations []obligationJSON  `json:"obligations,omitempty"`
	Advice      []obligationJSON  `json:"advice,omitempty"`
	Revision    uint64            `json:"revision,omitempty"`
	Error       *itemError        `json:"error,omitempty"`
}

type statusJSON struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

type obligationJSON struct {
	ID          string           `json:"id"`
	Assignments []assignmentJSON `json:"assignments,omitempty"`
}

type assignmentJSON struct {
	AttributeID string `json:"attribute_id"`
	Category    string `json:"category,omitempty"`
	Issuer      string `json:"issuer,omitempty"`
	DataType    string `json:"data_type"`
	Value       string `json:"value"`
}

// itemError is an evaluation-level error inside a batch (AuthZEN 1.0: the
// item is false, the error under its context).
type itemError struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
}

// reason is the administrator's explanation of a decision that is not a
// Permit.
func reason(d *pdp.Decision) string {
	switch d.Effect {
	case pdp.EffectDeny:
		return "denied by policy"
	case pdp.EffectNotApplicable:
		return "no policy applies to this request"
	case pdp.EffectPermit:
		return "permitted by policy"
	}
	if d.Status.Message != "" {
		return "the policy could not be evaluated: " + d.Status.Message
	}
	return "the policy could not be evaluated (" + d.Status.Code + ")"
}

// toEvaluationResponse maps a decision to AuthZEN: Permit is true, every
// other decision false; only a plain Permit goes without a context.
func toEvaluationResponse(d *pdp.Decision) evaluationResponse {
	permit := d.Effect == pdp.EffectPermit
	if permit && len(d.Obligations) == 0 && len(d.Advice) == 0 {
		return evaluationResponse{Decision: true}
	}
	c := &decisionContext{
		DecisionID:  d.ID,
		XACML:       string(d.Effect),
		ReasonAdmin: map[string]string{"en": reason(d)},
		Obligations: obligationsJSON(d.Obligations),
		Advice:      obligationsJSON(d.Advice),
		Revision:    d.Revision,
	}
	if d.Status.Code != "" && d.Status.Code != pdp.StatusOK {
		c.Status = &statusJSON{Code: d.Status.Code, Message: d.Status.Message}
	}
	return evaluationResponse{Decision: permit, Context: c}
}

func obligationsJSON(obs []pdp.Obligation) []obligationJSON {
	if len(obs) == 0 {
		return nil
	}
	out := make([]obligationJSON, 0, len(obs))
	for _, o := range obs {
		oj := obligationJSON{ID: o.ID}
		for _, a := range o.Assignments {
			oj.Assignments = append(oj.Assignments, assignmentJSON{
				AttributeID: a.AttributeID, Category: a.Category, Issuer: a.Issuer,
				DataType: xacmlfn.TypeURI(a.Type), Value: a.Value,
			})
		}
		out = append(out, oj)
	}
	return out
}

// failedItem is the answer for a batch item that could not be evaluated.
func failedItem(status int, msg string) evaluationResponse {
	return evaluationResponse{Context: &decisionContext{Error: &itemError{Status: status, Message: msg}}}
}
