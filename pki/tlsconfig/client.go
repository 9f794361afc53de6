package tlsconfig

import (
	"crypto/tls"
)

// ClientConfig returns a client configuration backed by src: it presents the
// current certificate (GetClientCertificate) and verifies the server in
// VerifyConnection against the current bundle, the Authorizer (or the server
// name when none is set) and the RevocationChecker. Go's built-in
// verification is switched off (InsecureSkipVerify) precisely because
// VerifyConnection replaces it with one that follows bundle rotation.
func ClientConfig(src *Source, opts ...Option) *tls.Config {
	cfg := newConfig(opts)
	v := &verifier{src: src, cfg: cfg, side: sideClient}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, //nolint:gosec // verification happens in VerifyConnection
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return src.load().cert, nil
		},
		VerifyConnection: func(cs tls.ConnectionState) error {
			return v.verify(cs.ServerName, cs)
		},
	}
}
