package pdp

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"

	"github.com/verdict-authz/verdict/pdp/xacmlfn"
	"github.com/verdict-authz/verdict/pip"
)

// pipDecl declares verdict.pip(category, id, type, issuer) -> bag: the
// compiled policies call it for attributes the request lacks. OPA need not
// memoise it: each call sits in a rule, whose value OPA caches for the
// query, and the engine's pip.Memo dedupes fetches across calls.
var pipDecl = &rego.Function{
	Name:             "verdict.pip",
	Decl:             types.NewFunction(types.Args(types.S, types.S, types.S, types.S), types.NewArray(nil, types.A)),
	Nondeterministic: true,
}

// pipBuiltin asks the configured PIPs for an attribute. No PIP, or no PIP
// that supplies it, is an empty bag; a PIP failure is an error, which the
// policy sees as Indeterminate (never as an empty bag).
func pipBuiltin(bctx rego.BuiltinContext, cat, id, typ, _ *ast.Term) (*ast.Term, error) {
	empty := ast.ArrayTerm()
	st, _ := bctx.Context.Value(stateKey{}).(*decisionState)
	if st == nil || st.pips == nil {
		return empty, nil
	}
	c, ok1 := cat.Value.(ast.String)
	a, ok2 := id.Value.(ast.String)
	t, ok3 := typ.Value.(ast.String)
	if !ok1 || !ok2 || !ok3 {
		return nil, fmt.Errorf("verdict.pip: arguments must be strings")
	}
	if st.memo == nil {
		st.memo = pip.NewMemo()
	}
	bag, err := st.pips.ResolveFrom(bctx.Context, st.memo, string(c), string(a), st)
	if err != nil {
		return nil, fmt.Errorf("verdict.pip %s %s: %w", a, c, err)
	}
	terms := make([]*ast.Term, 0, len(bag))
	for _, v := range bag {
		if val, ok := pipValue(v, string(t)); ok {
			terms = append(terms, ast.NewTerm(val))
		}
	}
	return ast.ArrayTerm(terms...), nil
}

// Keys returns the request's values of a PIP's key attribute, in a
// buffer reused by the next call (pip.KeySource).
func (st *decisionState) Keys(ref pip.AttributeRef) []string {
	st.keys = st.keys[:0]
	for _, a := range st.req.Attributes {
		if a.Category == ref.Category && a.ID == ref.ID {
			for _, v := range a.Values {
				st.keys = append(st.keys, v.Lexical)
			}
		}
	}
	return st.keys
}

// pipValue converts a PIP value (string, bool, int64, float64, json.Number)
// to the designated type; values of another type are not in that bag.
func pipValue(v any, typ string) (ast.Value, bool) {
	var lex, own string
	switch x := v.(type) {
	case string:
		lex, own = x, "string"
	case bool:
		lex, own = strconv.FormatBool(x), "boolean"
	case int64:
		lex, own = strconv.FormatInt(x, 10), "integer"
	case float64:
		lex, own = strconv.FormatFloat(x, 'g', -1, 64), "double"
	case json.Number:
		lex, own = string(x), "double"
		if _, err := strconv.ParseInt(lex, 10, 64); err == nil {
			own = "integer"
		}
	default:
		return nil, false
	}
	if own != typ && own != "string" && !(own == "integer" && typ == "double") {
		return nil, false
	}
	val, err := xacmlfn.Value(typ, lex)
	if err != nil {
		return nil, false
	}
	return val, true
}
