// Package build is the policy pipeline shared by the PAP and the command
// line: check a set of XACML policies, compile the root to Rego, and hand
// the result to an engine or a bundle. Parse → check → compile are the
// separate stages of xacml and xacml/compile; this package only chains them.
package build

import (
	"fmt"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/xacml"
	"github.com/verdict-authz/verdict/xacml/compile"
)

// Compiled is a checked and compiled policy tree.
type Compiled struct {
	Checked *xacml.Checked
	Output  *compile.Output
}

// Compile checks the policies with root as the root policy (the others are
// only reachable through references) and compiles them.
func Compile(policies []xacml.Evaluable, root xacml.Evaluable, opts ...compile.Option) (*Compiled, error) {
	set, err := xacml.NewSet(policies)
	if err != nil {
		return nil, err
	}
	checked, err := xacml.Check(set, root, xacml.StandardFunctions())
	if err != nil {
		return nil, err
	}
	out, err := compile.Compile(checked, opts...)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	return &Compiled{Checked: checked, Output: out}, nil
}

// CompileRoot finds the root (named by rootID, or the one no other policy
// references) and compiles.
func CompileRoot(policies []xacml.Evaluable, rootID string, opts ...compile.Option) (*Compiled, error) {
	root, err := xacml.FindRoot(policies, rootID)
	if err != nil {
		return nil, err
	}
	return Compile(policies, root, opts...)
}

// EnginePolicy is the compiled tree in the form the engine activates.
func (c *Compiled) EnginePolicy(service string, revision uint64) *pdp.Policy {
	p := &pdp.Policy{
		Service:  service,
		Revision: revision,
		Modules:  c.Output.Modules,
		RootID:   c.Output.RootID,
		// The compiler lists every attribute the policies designate.
		AttributesComplete: true,
	}
	for _, a := range c.Output.Attributes {
		p.Attributes = append(p.Attributes, pdp.AttributeSpec{Category: a.Category, ID: a.ID, Type: a.Type, Issuer: a.Issuer})
	}
	return p
}
