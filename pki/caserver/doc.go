// Package caserver exposes a ca.CA over HTTPS: the CFSSL-shaped REST API
// (/api/v1/cfssl/sign, newcert, info, revoke, crl, ocspsign), Verdict's join
// and renew endpoints, the RFC 6960 OCSP responder at /ocsp and the DER CRL
// at /crl. Callers authenticate with their certificate (mTLS); join, info,
// OCSP and CRL need none, since a joining workload has no certificate yet
// and relying parties must always reach revocation data.
package caserver
