// Package xacmlfn provides the XACML 3.0 primitive functions that Rego lacks,
// as OPA custom builtins, together with the conversions between XACML lexical
// forms and the Rego values that compiled policies and the input builder use.
//
// The PDP evaluates compiled bundles only, so this package depends on OPA and
// the standard library and on nothing else of Verdict's: the compiler emits
// calls to the builtins registered by [Options], and the engine converts
// attribute values with [Value] and prints them back with [Lexical].
//
// # Value representation
//
// Data types are named by their short names (string, boolean, integer,
// double, time, date, dateTime, anyURI, hexBinary, base64Binary,
// dayTimeDuration, yearMonthDuration, x500Name, rfc822Name, ipAddress,
// dnsName). A boolean is a Rego boolean, an integer a Rego number with an
// integral value, a double a Rego number except the special values, which are
// the Rego strings "INF", "-INF" and "NaN"; every other type is a Rego string
// holding the XML lexical form. A bag is a Rego array.
//
// # Builtins
//
// t and dt are short type names; bags are arrays (sets are accepted too).
//
//	xacml.eq(t, a, b) boolean              <t>-equal
//	xacml.cmp(t, a, b) number              -1, 0, 1: integer, double, string,
//	                                       time, date, dateTime, durations
//	xacml.is_in(t, v, bag) boolean         <t>-is-in
//	xacml.intersection(t, a, b) array      <t>-intersection, no duplicates
//	xacml.union(t, bags) array             <t>-union of an array of bags
//	xacml.subset(t, a, b) boolean          a is a subset of b
//	xacml.set_equals(t, a, b) boolean      <t>-set-equals
//	xacml.at_least_one(t, a, b) boolean    <t>-at-least-one-member-of
//	xacml.idiv(a, b) number                integer-divide, toward zero
//	xacml.imod(a, b) number                integer-mod, sign of a
//	xacml.round(x) number|string           round, ties to even
//	xacml.to_integer(x) number             double-to-integer, toward zero
//	xacml.from_string(t, s) any            <t>-from-string
//	xacml.to_string(t, v) string           string-from-<t>
//	xacml.substring(s, begin, end) string  string-substring, anyURI-substring
//	xacml.time_in_range(v, lo, hi) boolean time-in-range
//	xacml.date_add(t, dt, v, dur, sign)    date/dateTime +/- duration (sign 1/-1)
//	xacml.regexp_match(t, pattern, v)      <t>-regexp-match
//	xacml.x500_match(a, b) boolean         x500Name-match
//	xacml.rfc822_match(pattern, name)      rfc822Name-match
//
// # Errors
//
// A builtin that cannot produce a value returns an error. OPA, evaluating
// without strict builtin errors, turns it into "undefined", which the compiled
// policy treats as XACML Indeterminate. Errors wrap one of the sentinel errors
// of this package so that callers of [Value] and [Lexical] can classify them
// with errors.Is.
package xacmlfn
