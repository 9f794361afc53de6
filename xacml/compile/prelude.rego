# Verdict XACML runtime library: tri-state logic and combining algorithms.
# Generated policies call these functions; see package doc of xacml/compile.
package verdict.lib

import rego.v1

# ---- tri-state target logic: "M" match, "N" no match, "I" indeterminate ----

all3(xs) := "N" if {
	some x in xs
	x == "N"
} else := "I" if {
	some x in xs
	x == "I"
} else := "M"

any3(xs) := "M" if {
	some x in xs
	x == "M"
} else := "I" if {
	some x in xs
	x == "I"
} else := "N"

# memb is a membership match in tri-state: c is the caught bag ([] when
# the bag is undefined, [bag] otherwise).
memb(l, c) := "M" if {
	count(c) == 1
	l in c[0]
} else := "N" if {
	count(c) == 1
} else := "I"

# ---- boolean logic over caught values: each element is [] (Indeterminate) or [bool] ----

and(cs) := false if {
	some c in cs
	c == [false]
} else := true if {
	every c in cs {
		c == [true]
	}
}

or(cs) := true if {
	some c in cs
	c == [true]
} else := false if {
	every c in cs {
		c == [false]
	}
}

n_of(n, cs) := true if {
	n <= count(cs)
	count([1 | some c in cs; c == [true]]) >= n
} else := false if {
	n <= count(cs)
	count([1 | some c in cs; c != [false]]) < n
}

# ---- bags ----

one(b) := b[0] if count(b) == 1

nonempty(b) := b if count(b) > 0

bag_assign(b, id, c, i, t) := [{"id": id, "c": c, "i": i, "t": t, "v": v} | some v in b]

flat(xss) := [x | some xs in xss; some x in xs]

# ---- results ----

na := {"d": "NA"}

_collect(rs, d, k) := [x | some r in rs; r.d == d; some x in r[k]]

_with(rs, d) := {"d": d, "o": _collect(rs, d, "o"), "a": _collect(rs, d, "a")}

# _first keeps the obligations of the first child with decision d only: the
# algorithm stops evaluating there (XACML 3.0 appendix C).
_first(rs, d) := {"d": d, "o": r.o, "a": r.a} if {
	xs := [x | some x in rs; x.d == d]
	r := xs[0]
}

# _has tests the set of the children's decisions, computed once per element.
_has(ds, d) if ds[d]

_status(rs) := s if {
	ss := [r.s | some r in rs; startswith(r.d, "I")]
	s := ss[0]
} else := "urn:oasis:names:tc:xacml:1.0:status:processing-error"

_ind(rs, d) := {"d": d, "s": _status(rs)}

# deny-overrides (XACML 3.0 C.2, rules and policies).
deny_overrides(rs, ds) := _first(rs, "D") if _has(ds, "D")
else := _ind(rs, "IDP") if _has(ds, "IDP")
else := _ind(rs, "IDP") if {
	_has(ds, "ID")
	_has(ds, "IP")
} else := _ind(rs, "IDP") if {
	_has(ds, "ID")
	_has(ds, "P")
} else := _ind(rs, "ID") if _has(ds, "ID")
else := _with(rs, "P") if _has(ds, "P")
else := _ind(rs, "IP") if _has(ds, "IP")
else := na

# permit-overrides (XACML 3.0 C.3, rules and policies).
permit_overrides(rs, ds) := _first(rs, "P") if _has(ds, "P")
else := _ind(rs, "IDP") if _has(ds, "IDP")
else := _ind(rs, "IDP") if {
	_has(ds, "IP")
	_has(ds, "ID")
} else := _ind(rs, "IDP") if {
	_has(ds, "IP")
	_has(ds, "D")
} else := _ind(rs, "IP") if _has(ds, "IP")
else := _with(rs, "D") if _has(ds, "D")
else := _ind(rs, "ID") if _has(ds, "ID")
else := na

# deny-unless-permit and permit-unless-deny (C.4, C.5).
deny_unless_permit(rs, ds) := _first(rs, "P") if _has(ds, "P")
else := _with(rs, "D")

permit_unless_deny(rs, ds) := _first(rs, "D") if _has(ds, "D")
else := _with(rs, "P")

# first-applicable (C.6, C.7): the first child that is not NotApplicable.
first_applicable(rs, ds) := r if {
	xs := [x | some x in rs; x.d != "NA"]
	r := xs[0]
} else := na

# only-one-applicable (C.8): ts are the children's targets ("M"/"N"/"I").
only_one_applicable(ts, rs) := _ind_ps if {
	some t in ts
	t == "I"
} else := _ind_ps if {
	count([1 | some t in ts; t == "M"]) > 1
} else := rs[i] if {
	some i, t in ts
	t == "M"
} else := na

_ind_ps := {"d": "IDP", "s": "urn:oasis:names:tc:xacml:1.0:status:processing-error"}

# Legacy XACML 1.0/1.1 rule-combining deny-overrides (C.10).
legacy_rule_deny_overrides(rs, ds) := _first(rs, "D") if _has(ds, "D")
else := _ind(rs, "IDP") if _has(ds, "ID")
else := _ind(rs, "IDP") if _has(ds, "IDP")
else := _with(rs, "P") if _has(ds, "P")
else := _ind(rs, "IDP") if _has(ds, "IP")
else := na

# Legacy policy-combining deny-overrides (C.11): Indeterminate counts as Deny.
legacy_policy_deny_overrides(rs, ds) := _first(rs, "D") if _has(ds, "D")
else := {"d": "D", "o": [], "a": []} if {
	some r in rs
	startswith(r.d, "I")
} else := _with(rs, "P") if _has(ds, "P")
else := na

# Legacy rule-combining permit-overrides (C.12).
legacy_rule_permit_overrides(rs, ds) := _first(rs, "P") if _has(ds, "P")
else := _ind(rs, "IDP") if _has(ds, "IP")
else := _ind(rs, "IDP") if _has(ds, "IDP")
else := _with(rs, "D") if _has(ds, "D")
else := _ind(rs, "IDP") if _has(ds, "ID")
else := na

# Legacy policy-combining permit-overrides (C.13).
legacy_policy_permit_overrides(rs, ds) := _first(rs, "P") if _has(ds, "P")
else := _with(rs, "D") if _has(ds, "D")
else := _ind(rs, "IDP") if {
	some r in rs
	startswith(r.d, "I")
} else := na

# A policy whose target is Indeterminate (XACML 3.0 7.14, table 7).
target_indeterminate(c, s) := {"d": "IP", "s": s} if c.d == "P"
else := {"d": "ID", "s": s} if c.d == "D"
else := c
