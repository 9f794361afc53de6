package bundle

import "fmt"

// maxServiceName is the longest service name: one NATS subject token that
// still fits a DNS label.
const maxServiceName = 63

// ValidateServiceName reports, wrapping ErrInvalid, why name is not a
// service name ([a-z0-9][a-z0-9-]{0,62}). Service names become NATS subject
// tokens and file names, so anything else is refused before it is signed.
func ValidateServiceName(name string) error {
	if err := checkServiceName(name); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// checkServiceName is ValidateServiceName without a sentinel, so that
// readers can wrap it with ErrFormat instead.
func checkServiceName(name string) error {
	if name == "" {
		return fmt.Errorf("empty service name")
	}
	if len(name) > maxServiceName {
		return fmt.Errorf("service name %.20q... is %d bytes, longer than %d", name, len(name), maxServiceName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0:
		default:
			return fmt.Errorf("service name %q: byte %d (%q) is not allowed; want [a-z0-9][a-z0-9-]{0,62}", name, i, c)
		}
	}
	return nil
}
