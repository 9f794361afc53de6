package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/verdict-authz/verdict/pap/build"
	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/xacmlfn"
	"github.com/verdict-authz/verdict/xacml"
)

// runXACMLEval implements contract 1: evaluate an XACML request through the
// compiled Rego path and print the XACML Response.
func runXACMLEval(ctx context.Context, env *cliEnv, args []string) error {
	flags := newFlagSet("xacml eval", env.stderr)
	var policies stringList
	flags.Var(&policies, "policy", "policy or policy set file (XML or YAML); the first is the root, repeatable")
	request := flags.String("request", "", "XACML 3.0 Request file")
	pos, err := parseInterleaved(flags, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 || len(policies) == 0 || *request == "" {
		flags.Usage()
		return exitf(2, "usage: verdict xacml eval --policy ROOT.xml [--policy REF.xml ...] --request REQUEST.xml")
	}
	rootMissing := false
	if _, err := os.Stat(policies[0]); errors.Is(err, fs.ErrNotExist) && len(policies) > 1 {
		// The root file is absent but referenced policies were given (a
		// repository layout where the root sits among them): fall back to
		// the one policy no other references, and say so.
		rootMissing = true
		fmt.Fprintf(env.stderr, "verdict xacml eval: warning: root %s does not exist; using the unreferenced policy among the others as root\n", policies[0])
		policies = policies[1:]
	}
	loaded := make([]xacml.Evaluable, 0, len(policies))
	for _, p := range policies {
		e, err := xacml.ParseFile(p)
		if err != nil {
			return exitf(2, "%s", firstError(err))
		}
		loaded = append(loaded, e)
	}
	var compiled *build.Compiled
	if rootMissing {
		compiled, err = build.CompileRoot(loaded, "")
	} else {
		compiled, err = build.Compile(loaded, loaded[0])
	}
	if err != nil {
		return exitf(2, "%s", firstError(err))
	}
	engine := pdp.New()
	if err := engine.Activate(ctx, compiled.EnginePolicy("", 0)); err != nil {
		return fmt.Errorf("activate compiled policy: %w", err)
	}
	data, err := os.ReadFile(*request)
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	resp := &xacml.Response{}
	req, err := xacml.ParseRequestXML(*request, data)
	if err != nil {
		// A request that cannot be read is answered, as XACML says, with
		// Indeterminate and a syntax-error status.
		resp.Results = append(resp.Results, &xacml.Result{
			Decision: xacml.DecisionIndeterminate,
			Status:   xacml.Status{Code: xacml.StatusSyntaxError, Message: firstError(err)},
		})
		return resp.WriteXML(env.stdout)
	}
	res, err := evalXACMLRequest(ctx, engine, req)
	if err != nil {
		return err
	}
	resp.Results = append(resp.Results, res)
	return resp.WriteXML(env.stdout)
}

// evalXACMLRequest decides one parsed XACML request and builds its Result.
func evalXACMLRequest(ctx context.Context, engine *pdp.Engine, req *xacml.Request) (*xacml.Result, error) {
	preq := &pdp.Request{ReturnPolicyIDs: req.ReturnPolicyIDList}
	for _, g := range req.Attributes {
		for _, a := range g.Attributes {
			attr := pdp.Attribute{Category: g.Category, ID: a.AttributeID, Issuer: a.Issuer}
			for _, v := range a.Values {
				short, ok := xacmlfn.ShortType(v.DataType)
				if !ok {
					return syntaxResult(fmt.Sprintf("attribute %s: unknown data type %q", a.AttributeID, v.DataType)), nil
				}
				attr.Values = append(attr.Values, pdp.Value{Type: short, Lexical: v.Value})
			}
			preq.Attributes = append(preq.Attributes, attr)
		}
	}
	d, err := engine.Decide(ctx, preq)
	if errors.Is(err, pdp.ErrBadRequest) {
		return syntaxResult(err.Error()), nil
	}
	if err != nil {
		return nil, err
	}
	res := &xacml.Result{
		Decision:           xacml.Decision(d.Effect),
		Status:             xacml.Status{Code: d.Status.Code, Message: d.Status.Message},
		Attributes:         req.IncludedAttributes(),
		ReturnPolicyIDList: req.ReturnPolicyIDList,
	}
	for _, o := range d.Obligations {
		res.Obligations = append(res.Obligations, &xacml.Obligation{ID: o.ID, Assignments: assignments(o.Assignments)})
	}
	for _, o := range d.Advice {
		res.Advice = append(res.Advice, &xacml.Advice{ID: o.ID, Assignments: assignments(o.Assignments)})
	}
	for _, p := range d.PolicyIDs {
		kind := xacml.KindPolicy
		if p.Kind == "PolicySet" {
			kind = xacml.KindPolicySet
		}
		res.PolicyIdentifiers = append(res.PolicyIdentifiers, xacml.PolicyIdentifier{Kind: kind, ID: p.ID, Version: p.Version})
	}
	return res, nil
}

func syntaxResult(msg string) *xacml.Result {
	return &xacml.Result{Decision: xacml.DecisionIndeterminate, Status: xacml.Status{Code: xacml.StatusSyntaxError, Message: msg}}
}

func assignments(as []pdp.Assignment) []*xacml.AttributeAssignment {
	out := make([]*xacml.AttributeAssignment, 0, len(as))
	for _, a := range as {
		out = append(out, &xacml.AttributeAssignment{
			AttributeID: a.AttributeID, Category: a.Category, Issuer: a.Issuer,
			DataType: xacmlfn.TypeURI(a.Type), Value: a.Value,
		})
	}
	return out
}

// firstError returns the first line of the first error: contract 1 asks for
// a one-line message naming file and element.
func firstError(err error) string {
	if errs := xacml.SplitErrors(err); len(errs) > 0 {
		err = errs[0]
	}
	s := err.Error()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
