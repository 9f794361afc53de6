package xacml

// XML Schema and XACML data type identifiers.
const (
	TypeString            = "http://www.w3.org/2001/XMLSchema#string"
	TypeBoolean           = "http://www.w3.org/2001/XMLSchema#boolean"
	TypeInteger           = "http://www.w3.org/2001/XMLSchema#integer"
	TypeDouble            = "http://www.w3.org/2001/XMLSchema#double"
	TypeTime              = "http://www.w3.org/2001/XMLSchema#time"
	TypeDate              = "http://www.w3.org/2001/XMLSchema#date"
	TypeDateTime          = "http://www.w3.org/2001/XMLSchema#dateTime"
	TypeAnyURI            = "http://www.w3.org/2001/XMLSchema#anyURI"
	TypeHexBinary         = "http://www.w3.org/2001/XMLSchema#hexBinary"
	TypeBase64Binary      = "http://www.w3.org/2001/XMLSchema#base64Binary"
	TypeDayTimeDuration   = "http://www.w3.org/2001/XMLSchema#dayTimeDuration"
	TypeYearMonthDuration = "http://www.w3.org/2001/XMLSchema#yearMonthDuration"
	TypeX500Name          = "urn:oasis:names:tc:xacml:1.0:data-type:x500Name"
	TypeRFC822Name        = "urn:oasis:names:tc:xacml:1.0:data-type:rfc822Name"
	TypeIPAddress         = "urn:oasis:names:tc:xacml:2.0:data-type:ipAddress"
	TypeDNSName           = "urn:oasis:names:tc:xacml:2.0:data-type:dnsName"
	TypeXPathExpression   = "urn:oasis:names:tc:xacml:3.0:data-type:xpathExpression"

	// Legacy (XACML 1.x/2.0) duration identifiers, accepted as aliases.
	typeLegacyDayTimeDuration   = "http://www.w3.org/TR/2002/WD-xquery-operators-20020816#dayTimeDuration"
	typeLegacyYearMonthDuration = "http://www.w3.org/TR/2002/WD-xquery-operators-20020816#yearMonthDuration"
)

// DataTypeInfo describes a primitive data type.
type DataTypeInfo struct {
	// ID is the canonical XACML 3.0 identifier.
	ID string
	// Short is the name used in function identifiers ("string", "dayTimeDuration").
	Short string
}

// dataTypes lists the standard primitive types in the order function
// families are generated.
var dataTypes = []DataTypeInfo{
	{TypeString, "string"},
	{TypeBoolean, "boolean"},
	{TypeInteger, "integer"},
	{TypeDouble, "double"},
	{TypeTime, "time"},
	{TypeDate, "date"},
	{TypeDateTime, "dateTime"},
	{TypeAnyURI, "anyURI"},
	{TypeHexBinary, "hexBinary"},
	{TypeBase64Binary, "base64Binary"},
	{TypeDayTimeDuration, "dayTimeDuration"},
	{TypeYearMonthDuration, "yearMonthDuration"},
	{TypeX500Name, "x500Name"},
	{TypeRFC822Name, "rfc822Name"},
	{TypeIPAddress, "ipAddress"},
	{TypeDNSName, "dnsName"},
}

// CanonicalDataType maps a data type identifier (including legacy aliases)
// to its canonical XACML 3.0 identifier. ok is false for unknown types.
func CanonicalDataType(id string) (canonical string, ok bool) {
	switch id {
	case typeLegacyDayTimeDuration:
		return TypeDayTimeDuration, true
	case typeLegacyYearMonthDuration:
		return TypeYearMonthDuration, true
	}
	for _, dt := range dataTypes {
		if dt.ID == id {
			return id, true
		}
	}
	return "", false
}

// ShortTypeName returns the short name of a canonical data type ("string"),
// or the identifier itself when it is not a standard type.
func ShortTypeName(id string) string {
	for _, dt := range dataTypes {
		if dt.ID == id {
			return dt.Short
		}
	}
	return id
}

// DataTypeByShort returns the canonical identifier for a short name.
func DataTypeByShort(short string) (string, bool) {
	for _, dt := range dataTypes {
		if dt.Short == short {
			return dt.ID, true
		}
	}
	return "", false
}

// Standard attribute categories.
const (
	CategoryAccessSubject = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"
	CategoryResource      = "urn:oasis:names:tc:xacml:3.0:attribute-category:resource"
	CategoryAction        = "urn:oasis:names:tc:xacml:3.0:attribute-category:action"
	CategoryEnvironment   = "urn:oasis:names:tc:xacml:3.0:attribute-category:environment"
)

// Status codes.
const (
	StatusOK               = "urn:oasis:names:tc:xacml:1.0:status:ok"
	StatusMissingAttribute = "urn:oasis:names:tc:xacml:1.0:status:missing-attribute"
	StatusSyntaxError      = "urn:oasis:names:tc:xacml:1.0:status:syntax-error"
	StatusProcessingError  = "urn:oasis:names:tc:xacml:1.0:status:processing-error"
)
