package tlsconfig

import (
	"crypto/tls"
	"slices"
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

// ForHTTPServing returns a copy of in fit for a server that hands net/http
// and gRPC a TLS listener: client certificates required whenever client
// CAs are named (configuring a CA can never silently leave clients
// unauthenticated), TLS 1.2 at least, and HTTP/2 offered besides HTTP/1.1
// (http.Server.Serve, unlike ServeTLS, does not add h2, which gRPC and
// gRPC-protocol Connect clients need).
func ForHTTPServing(in *tls.Config) *tls.Config {
	cfg := in.Clone()
	if cfg.ClientCAs != nil && cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if !slices.Contains(cfg.NextProtos, "h2") {
		cfg.NextProtos = append([]string{"h2"}, cfg.NextProtos...)
	}
	if !slices.Contains(cfg.NextProtos, "http/1.1") {
		cfg.NextProtos = append(cfg.NextProtos, "http/1.1")
	}
	return cfg
}
