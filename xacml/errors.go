package xacml

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Error classes. Every *Error unwraps to exactly one of them, so callers
// (the CLI, the PAP, tests) can tell kinds of problems apart with errors.Is
// without parsing messages.
var (
	// ErrSyntax: the document is not well-formed, or an element, attribute
	// or value does not have the structure XACML requires.
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownFunction: a FunctionId or MatchId names no known function.
	ErrUnknownFunction = errors.New("unknown function")
	// ErrUnknownDataType: a DataType names no known data type.
	ErrUnknownDataType = errors.New("unknown data type")
	// ErrInvalidValue: an AttributeValue's text is not a valid lexical form
	// of its data type.
	ErrInvalidValue = errors.New("invalid value")
	// ErrUnknownAlgorithm: a combining algorithm identifier is unknown, or is
	// used where it does not apply (a policy-combining algorithm on rules).
	ErrUnknownAlgorithm = errors.New("unknown combining algorithm")
	// ErrType: a static type error (argument count or type, non-boolean
	// condition, ill-typed match).
	ErrType = errors.New("type error")
	// ErrReference: a PolicyIdReference or PolicySetIdReference that no
	// loaded policy satisfies, or an ambiguous or missing root.
	ErrReference = errors.New("unresolved policy reference")
	// ErrCircularReference: policy references that form a cycle.
	ErrCircularReference = errors.New("circular policy reference")
	// ErrVariable: a VariableReference to no VariableDefinition of its policy.
	ErrVariable = errors.New("undefined variable")
	// ErrCircularVariable: variable definitions that refer to each other in a cycle.
	ErrCircularVariable = errors.New("circular variable reference")
	// ErrDuplicateID: two policies, rules or variables share an identifier
	// where XACML requires it to be unique.
	ErrDuplicateID = errors.New("duplicate identifier")
	// ErrUnsupported: valid XACML that Verdict deliberately does not
	// implement (AttributeSelector, XPath, XACML 2.0 documents, multiple
	// decision requests).
	ErrUnsupported = errors.New("unsupported feature")
)

// Error is one problem found while loading a policy or request. Its text is
// a single line, "FILE:LINE: <Element>: message", so that a command line can
// print it as is and an editor can jump to it.
type Error struct {
	Pos Pos
	Msg string
	// Class is one of the Err* sentinels; errors.Is matches it.
	Class error
	// Cause is an underlying error (from encoding/xml, the YAML parser or
	// the file system), when there is one.
	Cause error
}

// Error returns the one-line form "FILE:LINE: <Element>: message".
func (e *Error) Error() string {
	s := posPrefix(e.Pos)
	if e.Pos.Element != "" {
		if s != "" {
			s += " "
		}
		s += "<" + e.Pos.Element + ">:"
	}
	if s != "" {
		s += " "
	}
	return s + e.Msg
}

// Unwrap exposes the class and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	out := make([]error, 0, 2)
	if e.Class != nil {
		out = append(out, e.Class)
	}
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	return out
}

// posPrefix returns "FILE:LINE:" (or "FILE:" without a line), the prefix
// every message about this position starts with; it is empty when nothing
// is known.
func posPrefix(p Pos) string {
	switch {
	case p.File == "" && p.Line == 0:
		return ""
	case p.Line == 0:
		return p.File + ":"
	default:
		return p.File + ":" + strconv.Itoa(p.Line) + ":"
	}
}

// newError builds an *Error with a formatted message.
func newError(pos Pos, class error, format string, args ...any) *Error {
	return &Error{Pos: pos, Class: class, Msg: fmt.Sprintf(format, args...)}
}

// errorList accumulates the problems of one load or check so that a user
// sees all of them at once rather than one per run.
type errorList struct {
	errs []*Error
}

func (l *errorList) add(pos Pos, class error, format string, args ...any) {
	l.errs = append(l.errs, newError(pos, class, format, args...))
}

func (l *errorList) addErr(err error) {
	if err == nil {
		return
	}
	for _, e := range SplitErrors(err) {
		var xe *Error
		if errors.As(e, &xe) {
			l.errs = append(l.errs, xe)
		} else {
			l.errs = append(l.errs, &Error{Msg: e.Error(), Class: ErrSyntax, Cause: e})
		}
	}
}

// err returns nil, the single error, or all of them joined with errors.Join,
// ordered by file and line so that the first line of the text is the first
// problem in the first file.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	slices.SortStableFunc(l.errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line))
	})
	if len(l.errs) == 1 {
		return l.errs[0]
	}
	errs := make([]error, len(l.errs))
	for i, e := range l.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// SplitErrors returns the individual errors inside err, flattening
// errors.Join trees, in order. A command line prints SplitErrors(err)[0]
// (equivalently, the first line of err.Error()) as its one-line message.
func SplitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		if _, isOurs := err.(*Error); !isOurs {
			var out []error
			for _, e := range j.Unwrap() {
				out = append(out, SplitErrors(e)...)
			}
			return out
		}
	}
	return []error{err}
}
