package xacmlfn

import "errors"

// Sentinel errors classify every error this package returns, so that callers
// can tell a malformed value from a type mismatch or an arithmetic failure
// with errors.Is, whatever detail the wrapping message carries.
var (
	// ErrSyntax reports a string that is not a valid lexical form of its
	// data type (XACML status syntax-error for the *-from-string functions).
	ErrSyntax = errors.New("invalid lexical form")

	// ErrUnknownType reports a data type short name or URI this package does
	// not know.
	ErrUnknownType = errors.New("unknown data type")

	// ErrType reports a Rego value whose kind does not match the XACML data
	// type it is declared to hold (for example a string where an integer is
	// expected), which a correct compiler never produces.
	ErrType = errors.New("value does not match its data type")

	// ErrRange reports an argument outside the domain of a function:
	// division by zero, a substring index out of bounds, a value too large
	// to convert.
	ErrRange = errors.New("argument out of range")

	// ErrIncomparable reports two values that have no order between them,
	// such as NaN, or times with and without a time zone.
	ErrIncomparable = errors.New("values are not comparable")

	// ErrUnsupported reports a construct that is valid XACML but that this
	// implementation cannot evaluate, such as a regular expression
	// back-reference, which Go's RE2 engine has no equivalent for.
	ErrUnsupported = errors.New("not supported")
)
