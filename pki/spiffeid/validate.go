package spiffeid

import "fmt"

// MaxServiceNameLen is the longest service name: it must stay a single NATS
// subject token and a DNS label.
const MaxServiceNameLen = 63

// maxTrustDomainLen follows the SPIFFE specification's host length limit.
const maxTrustDomainLen = 255

// ValidateServiceName checks the platform-wide service name rule
// [a-z0-9][a-z0-9-]{0,62}; the same names key policies, NATS subjects and
// certificates, so one rule keeps them interchangeable.
func ValidateServiceName(name string) error {
	if name == "" || len(name) > MaxServiceNameLen {
		return fmt.Errorf("%w: %q: length must be 1..%d", ErrInvalidServiceName, name, MaxServiceNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0:
		default:
			return fmt.Errorf("%w: %q: must match [a-z0-9][a-z0-9-]{0,62}", ErrInvalidServiceName, name)
		}
	}
	return nil
}

// ValidateTrustDomain checks a trust domain name as the SPIFFE specification
// defines it: lowercase letters, digits, '.', '-' and '_'.
func ValidateTrustDomain(td string) error {
	if td == "" || len(td) > maxTrustDomainLen {
		return fmt.Errorf("%w: %q: length must be 1..%d", ErrInvalidTrustDomain, td, maxTrustDomainLen)
	}
	for i := 0; i < len(td); i++ {
		c := td[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		default:
			return fmt.Errorf("%w: %q: only a-z, 0-9, '.', '-' and '_' are allowed", ErrInvalidTrustDomain, td)
		}
	}
	return nil
}
