package tlsconfig

import (
	"crypto/tls"
)

// ServerConfig returns a server configuration backed by src. Each handshake
// gets, through GetConfigForClient, the certificate and client CA list
// current at that moment; client certificates are required (unless
// WithOptionalClientCert) and verified in VerifyConnection, which also runs
// on resumed sessions, so a revoked or no-longer-trusted client cannot come
// back on an old session ticket.
func ServerConfig(src *Source, opts ...Option) *tls.Config {
	cfg := newConfig(opts)
	protos := cfg.nextProtos
	if protos == nil {
		protos = []string{"h2", "http/1.1"}
	}
	v := &verifier{src: src, cfg: cfg, side: sideServer}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: protos,
		GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			m := src.load()
			peer := ""
			if hello.Conn != nil {
				peer = hello.Conn.RemoteAddr().String()
			}
			return &tls.Config{
				MinVersion:   tls.VersionTLS12,
				NextProtos:   protos,
				Certificates: []tls.Certificate{*m.cert},
				// Requested, not required: a missing certificate is refused
				// by VerifyConnection, with our log line and ErrNoCertificate,
				// unless WithOptionalClientCert.
				ClientAuth: tls.RequestClientCert,
				ClientCAs:  m.bundle.Pool(),
				VerifyConnection: func(cs tls.ConnectionState) error {
					return v.verify(peer, cs)
				},
			}, nil
		},
		// crypto/tls serves from the per-connection configuration above;
		// GetCertificate makes this one look complete to code that checks
		// for a certificate source (http.Server.ServeTLS without files).
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return src.load().cert, nil },
	}
}
