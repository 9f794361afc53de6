package server

import "github.com/verdict-authz/verdict/pdp"

// AuthZENRequest maps one AuthZEN evaluation request (decoded JSON with
// numbers as json.Number: subject, action, resource, optional context) to
// engine attributes exactly as POST /access/v1/evaluation does (DESIGN.md
// contract 3). Tools that speak AuthZEN without a server, such as `verdict
// policy test`, use it so that a policy test and a live PDP can never map
// the same request differently.
func AuthZENRequest(body map[string]any) (*pdp.Request, error) {
	ev, aerr := parseEvaluation(body, "")
	if aerr != nil {
		return nil, aerr
	}
	if err := ev.check("", fullRequirement); err != nil {
		return nil, err
	}
	return ev.request()
}
