package sdk

import (
	"fmt"
	"maps"
	"slices"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/token"
)

// AddClaims adds a verified token's claims to req as access-subject
// attributes, as DESIGN.md's table says (token.Claims.Attributes applies the
// mapping: every claim by name, sub also as subject-id, scope and scp split
// into bags, arrays as bags, objects flattened to "claim.member"). Values
// are typed as JSON values everywhere in Verdict (pdp.JSONValues), so a
// policy sees the same attributes whether the token reached the embedded
// PDP, the remote PDP or ext_authz.
func AddClaims(req *pdp.Request, claims *token.Claims) error {
	attrs := claims.Attributes()
	for _, id := range slices.Sorted(maps.Keys(attrs)) {
		vals := make([]pdp.Value, 0, len(attrs[id]))
		for _, x := range attrs[id] {
			vs, err := pdp.JSONValues(x)
			if err != nil {
				return fmt.Errorf("sdk: token claim %s: %w", id, err)
			}
			vals = append(vals, vs...)
		}
		if len(vals) > 0 {
			req.Add(pdp.CategorySubject, id, vals...)
		}
	}
	return nil
}
