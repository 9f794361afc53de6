package pdp

import (
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/verdict-authz/verdict/pdp/xacmlfn"
)

// Keys of the result objects of the compile contract, as terms built once.
var (
	keyD  = ast.InternedTerm("d")
	keyS  = ast.InternedTerm("s")
	keyO  = ast.InternedTerm("o")
	keyA  = ast.InternedTerm("a")
	keyID = ast.InternedTerm("id")
	keyAs = ast.InternedTerm("as")
	keyC  = ast.InternedTerm("c")
	keyI  = ast.InternedTerm("i")
	keyT  = ast.InternedTerm("t")
	keyV  = ast.InternedTerm("v")
	keyK  = ast.InternedTerm("k")
)

// termOf returns the OPA term a query result holds (see keepTerm).
func termOf(v any) (*ast.Term, error) {
	t, ok := v.(*ast.Term)
	if !ok {
		return nil, fmt.Errorf("pdp: unexpected result %T", v)
	}
	return t, nil
}

// str returns the string at key k of obj, or "".
func str(obj ast.Object, k *ast.Term) string {
	if t := obj.Get(k); t != nil {
		if s, ok := t.Value.(ast.String); ok {
			return string(s)
		}
	}
	return ""
}

// decodeResult reads the root result: an object {"d", "s", "o", "a"}, or
// a bare decision code (a string) when there is nothing else to say.
func decodeResult(v any, d *Decision) error {
	t, err := termOf(v)
	if err != nil {
		return err
	}
	var code string
	var obj ast.Object
	switch x := t.Value.(type) {
	case ast.String:
		code = string(x)
	case ast.Object:
		obj = x
		code = str(obj, keyD)
	default:
		return fmt.Errorf("pdp: unexpected result %v", t)
	}
	switch code {
	case "P":
		d.Effect = EffectPermit
	case "D":
		d.Effect = EffectDeny
	case "NA":
		d.Effect = EffectNotApplicable
	case "IP", "ID", "IDP":
		d.Effect, d.Extended = EffectIndeterminate, code[1:]
	default:
		return fmt.Errorf("pdp: unexpected decision code %q", code)
	}
	d.Status.Code = StatusOK
	if d.Effect == EffectIndeterminate {
		d.Status.Code = StatusProcessingError
		if obj != nil {
			if s := str(obj, keyS); s != "" {
				d.Status.Code = s
			}
		}
	}
	if obj == nil {
		return nil
	}
	if d.Obligations, err = decodeObligations(obj.Get(keyO)); err != nil {
		return err
	}
	if d.Advice, err = decodeObligations(obj.Get(keyA)); err != nil {
		return err
	}
	return nil
}

func decodeObligations(t *ast.Term) ([]Obligation, error) {
	if t == nil {
		return nil, nil
	}
	list, _ := t.Value.(*ast.Array)
	if list == nil || list.Len() == 0 {
		return nil, nil
	}
	out := make([]Obligation, 0, list.Len())
	for i := range list.Len() {
		m, _ := list.Elem(i).Value.(ast.Object)
		if m == nil {
			return nil, fmt.Errorf("pdp: unexpected obligation %v", list.Elem(i))
		}
		ob := Obligation{ID: str(m, keyID)}
		var as *ast.Array
		if x := m.Get(keyAs); x != nil {
			as, _ = x.Value.(*ast.Array)
		}
		for j := range lenOf(as) {
			am, _ := as.Elem(j).Value.(ast.Object)
			if am == nil {
				return nil, fmt.Errorf("pdp: obligation %s: unexpected assignment %v", ob.ID, as.Elem(j))
			}
			asg := Assignment{AttributeID: str(am, keyID), Category: str(am, keyC), Issuer: str(am, keyI), Type: str(am, keyT)}
			val := am.Get(keyV)
			if val == nil {
				return nil, fmt.Errorf("pdp: obligation %s: assignment %s has no value", ob.ID, asg.AttributeID)
			}
			var err error
			if asg.Value, err = xacmlfn.Lexical(asg.Type, val.Value); err != nil {
				return nil, fmt.Errorf("pdp: obligation %s: %w", ob.ID, err)
			}
			ob.Assignments = append(ob.Assignments, asg)
		}
		out = append(out, ob)
	}
	return out, nil
}

func lenOf(a *ast.Array) int {
	if a == nil {
		return 0
	}
	return a.Len()
}

func decodePolicyIDs(v any) []PolicyID {
	t, err := termOf(v)
	if err != nil {
		return nil
	}
	list, _ := t.Value.(*ast.Array)
	out := make([]PolicyID, 0, lenOf(list))
	for i := range lenOf(list) {
		m, _ := list.Elem(i).Value.(ast.Object)
		if m == nil {
			continue
		}
		out = append(out, PolicyID{Kind: str(m, keyK), ID: str(m, keyID), Version: str(m, keyV)})
	}
	return out
}
