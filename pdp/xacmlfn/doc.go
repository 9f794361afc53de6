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
// # Errors
//
// A builtin that cannot produce a value returns an error. OPA, evaluating
// without strict builtin errors, turns it into "undefined", which the compiled
// policy treats as XACML Indeterminate. Errors wrap one of the sentinel errors
// of this package so that callers of [Value] and [Lexical] can classify them
// with errors.Is.
package xacmlfn
