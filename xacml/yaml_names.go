package xacml

import "strings"

// Short names of the YAML form. Each resolver accepts a short name or a
// full identifier, and each shortener returns the short name only when it
// resolves back to the same identifier, so that conversion never changes
// meaning.

// ResolveName finds a function by full identifier or by short name
// ("string-equal"). Short names are tried with the XACML 3.0, then 1.0,
// then 2.0 prefix, and a non-legacy function is preferred over a legacy one
// ("any-of" is the 3.0 function, "dayTimeDuration-equal" the 3.0 one).
func (r *Registry) ResolveName(name string) (*FunctionInfo, bool) {
	if f, ok := r.byID[name]; ok {
		return f, true
	}
	var legacy *FunctionInfo
	for _, prefix := range []string{fn3, fn1, fn2} {
		f, ok := r.byID[prefix+name]
		if !ok {
			continue
		}
		if !f.Legacy {
			return f, true
		}
		if legacy == nil {
			legacy = f
		}
	}
	return legacy, legacy != nil
}

// functionName is the YAML name of a function identifier.
func (r *Registry) functionName(id string) string {
	short := ShortFunctionName(id)
	if f, ok := r.ResolveName(short); ok && f.ID == id && !isReservedYAMLKey(short) {
		return short
	}
	return id
}

// functionID resolves a YAML function name, leaving unknown names as
// written for validation to report.
func (r *Registry) functionID(name string) string {
	if f, ok := r.ResolveName(name); ok {
		return f.ID
	}
	return name
}

// dataTypeID resolves a YAML data type name ("integer" or a full identifier).
func dataTypeID(name string) string {
	if id, ok := DataTypeByShort(name); ok {
		return id
	}
	return canonicalOrRaw(name)
}

// dataTypeName is the YAML name of a data type identifier.
func dataTypeName(id string) string {
	short := ShortTypeName(id)
	if back, ok := DataTypeByShort(short); ok && back == id {
		return short
	}
	return id
}

// categoryID resolves the four standard short category names.
func categoryID(name string) string {
	switch name {
	case "subject":
		return CategoryAccessSubject
	case "resource":
		return CategoryResource
	case "action":
		return CategoryAction
	case "environment":
		return CategoryEnvironment
	}
	return name
}

// categoryName is the YAML name of a category identifier.
func categoryName(id string) string {
	switch id {
	case CategoryAccessSubject:
		return "subject"
	case CategoryResource:
		return "resource"
	case CategoryAction:
		return "action"
	case CategoryEnvironment:
		return "environment"
	}
	return id
}

// isReservedYAMLKey reports whether key has a meaning in an expression
// mapping, so that it cannot be the function of the compact apply form.
func isReservedYAMLKey(key string) bool {
	switch key {
	case "apply", "args", "description", "attr", "selector", "value", "type", "xml_attrs", "var", "function":
		return true
	}
	return false
}

// parseEffect accepts Permit and Deny in any case.
func parseEffect(s string) Effect {
	switch strings.ToLower(s) {
	case "permit":
		return Permit
	case "deny":
		return Deny
	}
	return Effect(s)
}
