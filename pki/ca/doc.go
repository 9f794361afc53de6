// Package ca is Verdict's certificate authority as a library: it owns a
// self-signed root (or an intermediate under an operator's root), issues
// short-lived certificates whose identity is a spiffe:// URI SAN, redeems
// one-time join tokens, renews certificates for their current holder,
// revokes, and produces CRLs and OCSP statuses. Every issuance and
// revocation is checked by an Authorizer (when a caller asks for it),
// audited through an AuditSink and counted in Prometheus metrics.
//
// Transport lives elsewhere: pki/caserver exposes this API over HTTPS
// (CFSSL-shaped REST), and a gRPC/Connect service can wrap the same calls.
package ca
