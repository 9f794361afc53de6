package xacmlfn

import "fmt"

// dtype identifies a data type inside the package; builtins receive the short
// name as a string and switch on this instead of comparing strings again.
type dtype uint8

const (
	tInvalid dtype = iota
	tString
	tBoolean
	tInteger
	tDouble
	tTime
	tDate
	tDateTime
	tAnyURI
	tHexBinary
	tBase64Binary
	tDayTimeDuration
	tYearMonthDuration
	tX500Name
	tRFC822Name
	tIPAddress
	tDNSName
)

// uri returns the XACML 3.0 identifier of the data type.
func (t dtype) uri() string {
	switch t {
	case tString:
		return "http://www.w3.org/2001/XMLSchema#string"
	case tBoolean:
		return "http://www.w3.org/2001/XMLSchema#boolean"
	case tInteger:
		return "http://www.w3.org/2001/XMLSchema#integer"
	case tDouble:
		return "http://www.w3.org/2001/XMLSchema#double"
	case tTime:
		return "http://www.w3.org/2001/XMLSchema#time"
	case tDate:
		return "http://www.w3.org/2001/XMLSchema#date"
	case tDateTime:
		return "http://www.w3.org/2001/XMLSchema#dateTime"
	case tAnyURI:
		return "http://www.w3.org/2001/XMLSchema#anyURI"
	case tHexBinary:
		return "http://www.w3.org/2001/XMLSchema#hexBinary"
	case tBase64Binary:
		return "http://www.w3.org/2001/XMLSchema#base64Binary"
	case tDayTimeDuration:
		return "http://www.w3.org/2001/XMLSchema#dayTimeDuration"
	case tYearMonthDuration:
		return "http://www.w3.org/2001/XMLSchema#yearMonthDuration"
	case tX500Name:
		return "urn:oasis:names:tc:xacml:1.0:data-type:x500Name"
	case tRFC822Name:
		return "urn:oasis:names:tc:xacml:1.0:data-type:rfc822Name"
	case tIPAddress:
		return "urn:oasis:names:tc:xacml:2.0:data-type:ipAddress"
	case tDNSName:
		return "urn:oasis:names:tc:xacml:2.0:data-type:dnsName"
	}
	return ""
}

// String returns the short name of the data type.
func (t dtype) String() string {
	switch t {
	case tString:
		return "string"
	case tBoolean:
		return "boolean"
	case tInteger:
		return "integer"
	case tDouble:
		return "double"
	case tTime:
		return "time"
	case tDate:
		return "date"
	case tDateTime:
		return "dateTime"
	case tAnyURI:
		return "anyURI"
	case tHexBinary:
		return "hexBinary"
	case tBase64Binary:
		return "base64Binary"
	case tDayTimeDuration:
		return "dayTimeDuration"
	case tYearMonthDuration:
		return "yearMonthDuration"
	case tX500Name:
		return "x500Name"
	case tRFC822Name:
		return "rfc822Name"
	case tIPAddress:
		return "ipAddress"
	case tDNSName:
		return "dnsName"
	}
	return ""
}

// Identifiers XACML 2.0 used for the duration types before XML Schema 1.1
// defined them; XACML 3.0 policies may still carry them.
const (
	legacyDayTimeDurationURI   = "http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration"
	legacyYearMonthDurationURI = "http://www.w3.org/TR/2002/WD-xquery-operators-20020816#yearMonthDuration"
)

// parseType maps a short name to its dtype; it is called on every builtin
// invocation, so it is a switch rather than a map lookup.
func parseType(short string) dtype {
	switch short {
	case "string":
		return tString
	case "boolean":
		return tBoolean
	case "integer":
		return tInteger
	case "double":
		return tDouble
	case "time":
		return tTime
	case "date":
		return tDate
	case "dateTime":
		return tDateTime
	case "anyURI":
		return tAnyURI
	case "hexBinary":
		return tHexBinary
	case "base64Binary":
		return tBase64Binary
	case "dayTimeDuration":
		return tDayTimeDuration
	case "yearMonthDuration":
		return tYearMonthDuration
	case "x500Name":
		return tX500Name
	case "rfc822Name":
		return tRFC822Name
	case "ipAddress":
		return tIPAddress
	case "dnsName":
		return tDNSName
	}
	return tInvalid
}

// lookupType is parseType with an error naming the offending short name.
func lookupType(short string) (dtype, error) {
	if t := parseType(short); t != tInvalid {
		return t, nil
	}
	return tInvalid, fmt.Errorf("%w: %q", ErrUnknownType, short)
}

// ShortType maps a standard data type identifier to the short name used in
// Rego, so that the compiler and the input builder agree on one spelling. The
// XACML 2.0 identifiers of the duration types map to the XACML 3.0 short
// names. ok is false for an identifier that is not a standard data type.
func ShortType(uri string) (short string, ok bool) {
	switch uri {
	case legacyDayTimeDurationURI:
		return tDayTimeDuration.String(), true
	case legacyYearMonthDurationURI:
		return tYearMonthDuration.String(), true
	}
	for t := tString; t <= tDNSName; t++ {
		if t.uri() == uri {
			return t.String(), true
		}
	}
	return "", false
}

// TypeURI returns the XACML 3.0 identifier of a short type name, for printing
// DataType attributes in responses; it returns "" for an unknown short name.
func TypeURI(short string) string {
	return parseType(short).uri()
}
