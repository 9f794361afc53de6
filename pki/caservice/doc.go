// Package caservice serves the CA's typed API, verdict.v1.CertificateAuthorityService,
// over gRPC and Connect from one implementation on top of pki/ca, so that Go
// tooling and the CLI get typed clients with the same semantics as the
// CFSSL-shaped REST API of pki/caserver.
//
// The service trusts the transport for authentication: it must be served
// behind TLS that verifies client certificates against the CA's bundle and
// revocation set (tlsconfig.ServerConfig with WithOptionalClientCert, so
// that Redeem works without a certificate). The caller's identity is the
// SPIFFE ID of the verified peer certificate; authorization is the CA's
// Authorizer.
package caservice
