package spiffeid

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Scheme is the URI scheme of every identity.
const Scheme = "spiffe"

// servicePath is the path prefix under which service identities live. Keeping
// it explicit leaves room for other kinds of identity later without clashing.
const servicePath = "/service/"

// Errors returned when an identity cannot be parsed or found. Callers match
// them with errors.Is.
var (
	// ErrInvalid means a string or URI is not a well-formed Verdict identity.
	ErrInvalid = errors.New("spiffeid: invalid identity")
	// ErrInvalidServiceName means a service name breaks [a-z0-9][a-z0-9-]{0,62}.
	ErrInvalidServiceName = errors.New("spiffeid: invalid service name")
	// ErrInvalidTrustDomain means a trust domain is empty or has forbidden characters.
	ErrInvalidTrustDomain = errors.New("spiffeid: invalid trust domain")
	// ErrNoIdentity means a certificate carries no spiffe:// URI SAN.
	ErrNoIdentity = errors.New("spiffeid: certificate has no identity")
	// ErrMultipleIdentities means a certificate carries more than one spiffe:// URI SAN,
	// which would make authorization ambiguous.
	ErrMultipleIdentities = errors.New("spiffeid: certificate has more than one identity")
)

// ID is a parsed service identity. The zero value is "no identity" and is
// never equal to a valid ID, so it can be used as "unauthenticated".
type ID struct {
	trustDomain string
	service     string
}

// New builds the identity of service in trustDomain after validating both, so
// that an ID value is always well formed.
func New(trustDomain, service string) (ID, error) {
	if err := ValidateTrustDomain(trustDomain); err != nil {
		return ID{}, err
	}
	if err := ValidateServiceName(service); err != nil {
		return ID{}, err
	}
	return ID{trustDomain: trustDomain, service: service}, nil
}

// Must is New for identities known at compile time (tests, constants); it
// panics on an invalid argument.
func Must(trustDomain, service string) ID {
	id, err := New(trustDomain, service)
	if err != nil {
		panic(err)
	}
	return id
}

// Parse reads the textual form spiffe://<trust-domain>/service/<name>.
func Parse(s string) (ID, error) {
	u, err := url.Parse(s)
	if err != nil {
		return ID{}, fmt.Errorf("%w: %q: %v", ErrInvalid, s, err)
	}
	return FromURI(u)
}

// FromURI converts a URI SAN into an identity. Anything beyond scheme, host
// and the /service/<name> path (user info, port, query, fragment, extra path
// segments) is refused, so two different URIs never map to the same ID.
func FromURI(u *url.URL) (ID, error) {
	if u == nil {
		return ID{}, fmt.Errorf("%w: nil URI", ErrInvalid)
	}
	if u.Scheme != Scheme {
		return ID{}, fmt.Errorf("%w: %q: scheme must be %q", ErrInvalid, u.String(), Scheme)
	}
	if u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || u.RawPath != "" {
		return ID{}, fmt.Errorf("%w: %q: only scheme, trust domain and path are allowed", ErrInvalid, u.String())
	}
	name, ok := strings.CutPrefix(u.Path, servicePath)
	if !ok {
		return ID{}, fmt.Errorf("%w: %q: path must be %s<name>", ErrInvalid, u.String(), servicePath)
	}
	id, err := New(u.Host, name)
	if err != nil {
		return ID{}, fmt.Errorf("%w: %q: %w", ErrInvalid, u.String(), err)
	}
	return id, nil
}

// FromCertificate extracts the identity of a certificate: its single
// spiffe:// URI SAN. Other URI SANs are ignored; more than one spiffe:// URI
// is refused because it would make authorization ambiguous.
func FromCertificate(cert *x509.Certificate) (ID, error) {
	if cert == nil {
		return ID{}, ErrNoIdentity
	}
	var found *url.URL
	for _, u := range cert.URIs {
		if u.Scheme != Scheme {
			continue
		}
		if found != nil {
			return ID{}, ErrMultipleIdentities
		}
		found = u
	}
	if found == nil {
		return ID{}, ErrNoIdentity
	}
	return FromURI(found)
}

// FromConnectionState returns the identity of the TLS peer (the first peer
// certificate). It is what PEP middleware uses to learn the calling workload.
func FromConnectionState(cs *tls.ConnectionState) (ID, error) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return ID{}, ErrNoIdentity
	}
	return FromCertificate(cs.PeerCertificates[0])
}

// TrustDomain returns the trust domain (the URI host).
func (id ID) TrustDomain() string { return id.trustDomain }

// Service returns the service name, the unit that policies, NATS subjects and
// join tokens are keyed by.
func (id ID) Service() string { return id.service }

// IsZero reports whether id is the zero value (no identity).
func (id ID) IsZero() bool { return id.trustDomain == "" && id.service == "" }

// MemberOf reports whether id belongs to trustDomain.
func (id ID) MemberOf(trustDomain string) bool { return !id.IsZero() && id.trustDomain == trustDomain }

// String returns the URI form, or "" for the zero ID.
func (id ID) String() string {
	if id.IsZero() {
		return ""
	}
	return Scheme + "://" + id.trustDomain + servicePath + id.service
}

// URL returns the URI form as a *url.URL, ready to put in a certificate.
func (id ID) URL() *url.URL {
	if id.IsZero() {
		return nil
	}
	return &url.URL{Scheme: Scheme, Host: id.trustDomain, Path: servicePath + id.service}
}

// MarshalText lets IDs appear in JSON and YAML as their URI form.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses the URI form; an empty text gives the zero ID.
func (id *ID) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*id = ID{}
		return nil
	}
	parsed, err := Parse(string(b))
	if err != nil {
		return err
	}
	*id = parsed
	return nil
}
