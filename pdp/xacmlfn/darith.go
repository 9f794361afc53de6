package xacmlfn

import (
	"fmt"
	"math"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

const (
	nameDArith = "xacml.darith"
	nameDUnary = "xacml.dunary"
)

// dArithBuiltin is double-add/subtract/multiply/divide over the double
// representation, where INF, -INF and NaN are strings that Rego's own
// arithmetic cannot take. Division by zero is Indeterminate, as XACML says.
func dArithBuiltin(_ rego.BuiltinContext, op, a, b *ast.Term) (*ast.Term, error) {
	o, err := stringArg("op", op)
	if err != nil {
		return nil, err
	}
	x, err := doubleOf(a.Value)
	if err != nil {
		return nil, err
	}
	y, err := doubleOf(b.Value)
	if err != nil {
		return nil, err
	}
	switch o {
	case "add":
		return doubleTerm(x + y), nil
	case "subtract":
		return doubleTerm(x - y), nil
	case "multiply":
		return doubleTerm(x * y), nil
	case "divide":
		if y == 0 {
			return nil, fmt.Errorf("%w: double-divide by zero", ErrRange)
		}
		return doubleTerm(x / y), nil
	}
	return nil, fmt.Errorf("%w: unknown double operation %q", ErrUnsupported, o)
}

// dUnaryBuiltin is double-abs and floor over the double representation.
func dUnaryBuiltin(_ rego.BuiltinContext, op, a *ast.Term) (*ast.Term, error) {
	o, err := stringArg("op", op)
	if err != nil {
		return nil, err
	}
	x, err := doubleOf(a.Value)
	if err != nil {
		return nil, err
	}
	switch o {
	case "abs":
		return doubleTerm(math.Abs(x)), nil
	case "floor":
		return doubleTerm(math.Floor(x)), nil
	}
	return nil, fmt.Errorf("%w: unknown double operation %q", ErrUnsupported, o)
}
