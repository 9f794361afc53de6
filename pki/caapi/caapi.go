// Package caapi is the wire format of the CA's REST API, shared by
// pki/caserver and pki/caclient. The /api/v1/cfssl/* endpoints follow
// CFSSL's request and response shapes so that CFSSL-speaking tools work;
// /api/v1/verdict/* are Verdict's own (join, renew, join tokens). Fields
// CFSSL does not have are marked as Verdict extensions.
package caapi

import (
	"encoding/json"
	"time"
)

// ServiceName is the service name in the CA server's own identity,
// spiffe://<trust-domain>/service/ca, which clients expect.
const ServiceName = "ca"

// Endpoint paths.
const (
	PathSign      = "/api/v1/cfssl/sign"
	PathNewCert   = "/api/v1/cfssl/newcert"
	PathInfo      = "/api/v1/cfssl/info"
	PathRevoke    = "/api/v1/cfssl/revoke"
	PathCRL       = "/api/v1/cfssl/crl"
	PathOCSPSign  = "/api/v1/cfssl/ocspsign"
	PathJoin      = "/api/v1/verdict/join"
	PathRenew     = "/api/v1/verdict/renew"
	PathJoinToken = "/api/v1/verdict/jointoken"
	// PathOCSP is the RFC 6960 responder (DER, not JSON).
	PathOCSP = "/ocsp"
	// PathCRLDER serves the current CRL as DER (application/pkix-crl).
	PathCRLDER = "/crl"
	// PathHealth answers 200 once the server is up.
	PathHealth = "/healthz"
)

// Response is the envelope of every JSON answer, as in CFSSL.
type Response struct {
	Success  bool            `json:"success"`
	Result   json.RawMessage `json:"result"`
	Errors   []Message       `json:"errors"`
	Messages []Message       `json:"messages"`
}

// Message is an error or informational message. Codes are HTTP status codes
// (400 bad request, 401 not authenticated or invalid join token, 403
// forbidden, 404 unknown serial, 409 already revoked, 500 internal error,
// 503 unavailable).
type Message struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// SignRequest is CFSSL's sign request.
type SignRequest struct {
	// CertificateRequest is the PEM CSR.
	CertificateRequest string   `json:"certificate_request"`
	Hosts              []string `json:"hosts,omitempty"`
	Profile            string   `json:"profile,omitempty"`
	Label              string   `json:"label,omitempty"`
	// Service names the identity (Verdict extension); default: the CSR's
	// spiffe:// URI, else its common name.
	Service string `json:"service,omitempty"`
	// Lifetime as a Go duration, e.g. "1h" (Verdict extension).
	Lifetime string `json:"lifetime,omitempty"`
}

// KeyRequest is CFSSL's key request in newcert.
type KeyRequest struct {
	Algo string `json:"algo"`
	Size int    `json:"size,omitempty"`
}

// CertificateSubject is CFSSL's CSR description in newcert.
type CertificateSubject struct {
	CN    string      `json:"CN"`
	Hosts []string    `json:"hosts,omitempty"`
	Key   *KeyRequest `json:"key,omitempty"`
}

// NewCertRequest is CFSSL's newcert request.
type NewCertRequest struct {
	Request  CertificateSubject `json:"request"`
	Profile  string             `json:"profile,omitempty"`
	Label    string             `json:"label,omitempty"`
	Service  string             `json:"service,omitempty"`  // Verdict extension; default request.CN
	Lifetime string             `json:"lifetime,omitempty"` // Verdict extension
}

// Certificate describes an issued certificate. CFSSL's sign result has only
// "certificate"; the other fields are Verdict extensions.
type Certificate struct {
	// Certificate is the leaf, PEM.
	Certificate string `json:"certificate"`
	// Chain is the leaf followed by intermediates, PEM: what to serve.
	Chain string `json:"chain,omitempty"`
	// TrustBundle is the root(s), PEM.
	TrustBundle string    `json:"trust_bundle,omitempty"`
	Identity    string    `json:"identity,omitempty"`
	Profile     string    `json:"profile,omitempty"`
	Serial      string    `json:"serial,omitempty"` // decimal, as CFSSL's revoke takes it
	NotAfter    time.Time `json:"not_after,omitzero"`
}

// NewCertResult is CFSSL's newcert result plus the Certificate fields.
type NewCertResult struct {
	Certificate
	PrivateKey         string `json:"private_key"`
	CertificateRequest string `json:"certificate_request,omitempty"`
}

// InfoRequest is CFSSL's info request (both fields are accepted and ignored:
// one CA, every profile).
type InfoRequest struct {
	Label   string `json:"label,omitempty"`
	Profile string `json:"profile,omitempty"`
}

// ProfileInfo describes a profile (Verdict extension).
type ProfileInfo struct {
	Usages []string `json:"usages"`
	Expiry string   `json:"expiry"`
}

// InfoResult is CFSSL's info result.
type InfoResult struct {
	// Certificate is the issuing CA certificate, PEM.
	Certificate string   `json:"certificate"`
	Usages      []string `json:"usages,omitempty"`
	Expiry      string   `json:"expiry,omitempty"`
	// Verdict extensions.
	TrustBundle string                 `json:"trust_bundle"`
	TrustDomain string                 `json:"trust_domain"`
	Fingerprint string                 `json:"root_fingerprint"`
	Profiles    map[string]ProfileInfo `json:"profiles,omitempty"`
}

// RevokeRequest is CFSSL's revoke request. Serial is decimal (CFSSL), or
// hexadecimal with a "0x" prefix or colons.
type RevokeRequest struct {
	Serial         string `json:"serial"`
	AuthorityKeyID string `json:"authority_key_id,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// OCSPSignRequest is CFSSL's ocspsign request. Status, when given, must
// match what the CA knows; the CA never signs a status it does not hold.
type OCSPSignRequest struct {
	Certificate string `json:"certificate"`
	Status      string `json:"status,omitempty"`
}

// OCSPSignResult is CFSSL's ocspsign result: the base64 DER response.
type OCSPSignResult struct {
	OCSPResponse string `json:"ocspResponse"`
}

// JoinRequest redeems a join token.
type JoinRequest struct {
	Token              string `json:"token"`
	CertificateRequest string `json:"certificate_request"`
}

// RenewRequest renews the certificate the client authenticated with.
type RenewRequest struct {
	CertificateRequest string `json:"certificate_request"`
}

// JoinTokenRequest creates a join token.
type JoinTokenRequest struct {
	Service  string   `json:"service"`
	Profile  string   `json:"profile,omitempty"`
	Hosts    []string `json:"hosts,omitempty"`
	TTL      string   `json:"ttl,omitempty"`
	Lifetime string   `json:"lifetime,omitempty"`
}

// JoinTokenResult carries the token secret, shown once.
type JoinTokenResult struct {
	Token     string    `json:"token"`
	Identity  string    `json:"identity"`
	Profile   string    `json:"profile"`
	ExpiresAt time.Time `json:"expires_at"`
}
