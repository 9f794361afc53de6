package pip

import (
	"fmt"
	"strings"
)

// The four standard XACML categories, repeated here because pip is a leaf
// package and providers must name categories the way the engine does.
const (
	CategoryAccessSubject = "urn:oasis:names:tc:xacml:1.0:subject-category:access-subject"
	CategoryResource      = "urn:oasis:names:tc:xacml:3.0:attribute-category:resource"
	CategoryAction        = "urn:oasis:names:tc:xacml:3.0:attribute-category:action"
	CategoryEnvironment   = "urn:oasis:names:tc:xacml:3.0:attribute-category:environment"
)

// ParseCategory turns the short names used in configuration files
// ("subject", "resource", "action", "environment" or AuthZEN's "context")
// into the full category URN, so that configuration stays readable. A
// string that already looks like a URN (contains ':') is returned as is,
// which keeps custom categories usable.
func ParseCategory(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "subject", "access-subject":
		return CategoryAccessSubject, nil
	case "resource":
		return CategoryResource, nil
	case "action":
		return CategoryAction, nil
	case "environment", "context":
		return CategoryEnvironment, nil
	}
	if strings.Contains(s, ":") {
		return s, nil
	}
	return "", fmt.Errorf("pip: %w: %q (want subject, resource, action, environment or a category URN)", ErrUnknownCategory, s)
}
