package revocation

import "crypto/x509"

// Checker is the interface both Set and CRL satisfy; pki/tlsconfig declares
// the same method set as its RevocationChecker.
type Checker interface {
	CheckRevocation(cert *x509.Certificate) error
}

// Any combines checkers: a certificate is refused when any of them refuses it.
func Any(checkers ...Checker) Checker { return anyOf(checkers) }

type anyOf []Checker

func (a anyOf) CheckRevocation(cert *x509.Certificate) error {
	for _, c := range a {
		if c == nil {
			continue
		}
		if err := c.CheckRevocation(cert); err != nil {
			return err
		}
	}
	return nil
}
