// Package spiffeid is Verdict's workload identity: SPIFFE-style URIs of the
// form spiffe://<trust-domain>/service/<name>. Every certificate the CA
// issues carries exactly one such URI SAN, and every peer check (TLS
// verification, PEP middleware, CA authorization) reasons about this value
// rather than about DNS names or subject fields.
package spiffeid
