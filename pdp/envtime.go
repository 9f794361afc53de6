package pdp

import "time"

// The standard environment attributes the context handler supplies when a
// request does not (XACML 3.0 §7.3.5 and Appendix B.7).
const (
	AttrCurrentTime     = "urn:oasis:names:tc:xacml:1.0:environment:current-time"
	AttrCurrentDate     = "urn:oasis:names:tc:xacml:1.0:environment:current-date"
	AttrCurrentDateTime = "urn:oasis:names:tc:xacml:1.0:environment:current-dateTime"
)

// currentAttrs lists the supplied attributes with their type and the layout
// of their lexical form.
var currentAttrs = [...]struct{ id, typ, layout string }{
	{AttrCurrentTime, "time", "15:04:05.999999999Z07:00"},
	{AttrCurrentDate, "date", "2006-01-02Z07:00"},
	{AttrCurrentDateTime, "dateTime", "2006-01-02T15:04:05.999999999Z07:00"},
}

// withCurrentTime returns req completed with the current-time, current-date
// and current-dateTime environment attributes it lacks and the policy may
// read, all taken from the same instant now: the specification has the
// context handler use a value the request supplies, and supply one
// otherwise. The caller's request is never modified.
func withCurrentTime(req *Request, now time.Time, ib *inputBuilder) *Request {
	var missing []Attribute
	for _, c := range currentAttrs {
		if ib.complete {
			if _, read := ib.designated[catID{CategoryEnvironment, c.id}]; !read {
				continue
			}
		}
		if hasAttribute(req, CategoryEnvironment, c.id) {
			continue
		}
		missing = append(missing, Attribute{Category: CategoryEnvironment, ID: c.id,
			Values: []Value{{Type: c.typ, Lexical: now.Format(c.layout)}}})
	}
	if len(missing) == 0 {
		return req
	}
	out := *req
	out.Attributes = make([]Attribute, 0, len(req.Attributes)+len(missing))
	out.Attributes = append(append(out.Attributes, req.Attributes...), missing...)
	return &out
}

// hasAttribute reports whether req carries the attribute, whatever its
// issuer or values.
func hasAttribute(req *Request, category, id string) bool {
	for _, a := range req.Attributes {
		if a.Category == category && a.ID == id {
			return true
		}
	}
	return false
}
