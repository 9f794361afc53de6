// Package ocspresponder is an RFC 6960 OCSP responder: it parses DER requests
// (HTTP GET with the base64 request in the path, or POST), looks the serial
// up through a Source, and signs good/revoked/unknown responses with the
// issuer's key.
//
// Request parsing and the error responses come from golang.org/x/crypto/ocsp.
// Responses are encoded here because x/crypto can only place extensions in
// singleExtensions, while RFC 6960 section 4.4.1 (and OpenSSL's -nonce check)
// expect the echoed nonce in responseExtensions.
package ocspresponder
