package ca

import (
	"crypto/x509"
	"fmt"
)

// Profile decides what a certificate may be used for. Identities are the same
// for all profiles; only key usages and permitted SANs differ.
type Profile string

// Profiles.
const (
	// ProfileServer is for TLS servers: serverAuth, URI SAN plus DNS/IP SANs.
	ProfileServer Profile = "server"
	// ProfileClient is for TLS clients: clientAuth, URI SAN only.
	ProfileClient Profile = "client"
	// ProfilePeer is for workloads that both serve and call (most services):
	// serverAuth and clientAuth, URI SAN plus DNS/IP SANs.
	ProfilePeer Profile = "peer"
)

// Profiles lists every profile, in a stable order for info endpoints.
var Profiles = []Profile{ProfileServer, ProfileClient, ProfilePeer}

// ParseProfile maps a name to a Profile; "" gives def.
func ParseProfile(s string, def Profile) (Profile, error) {
	switch p := Profile(s); p {
	case "":
		return def, nil
	case ProfileServer, ProfileClient, ProfilePeer:
		return p, nil
	}
	return "", fmt.Errorf("%w: unknown profile %q", ErrInvalidRequest, s)
}

// ExtKeyUsages returns the extended key usages the profile grants.
func (p Profile) ExtKeyUsages() []x509.ExtKeyUsage {
	switch p {
	case ProfileServer:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case ProfileClient:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	case ProfilePeer:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	return nil
}

// AllowsHosts reports whether DNS and IP SANs may appear: clients have no
// hostname to be verified against, so they get none.
func (p Profile) AllowsHosts() bool { return p == ProfileServer || p == ProfilePeer }

// UsageNames returns CFSSL-style usage names for the info endpoint.
func (p Profile) UsageNames() []string {
	out := []string{"digital signature"}
	for _, u := range p.ExtKeyUsages() {
		switch u {
		case x509.ExtKeyUsageServerAuth:
			out = append(out, "server auth")
		case x509.ExtKeyUsageClientAuth:
			out = append(out, "client auth")
		}
	}
	return out
}
