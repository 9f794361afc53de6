// Package revocation answers "has this certificate been revoked?" for TLS
// peer verification. A Set is the local view, updated by events (the CA
// itself, NATS revocation messages) so that a revocation takes effect in
// seconds; a CRL checker adds the periodically fetched CRL as a second
// source. Both implement the one-method checker interface that
// pki/tlsconfig calls in VerifyConnection.
package revocation
