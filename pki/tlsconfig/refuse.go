package tlsconfig

import (
	"crypto/tls"

	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// RefuseRevoked returns a copy of the server configuration in that also
// refuses client certificates checker reports revoked, on full and resumed
// handshakes, with the same log line and *PeerError (ErrRevoked) as
// ServerConfig's own check. It lets a server given any *tls.Config (a
// static one, or one built by ServerConfig without a checker) honour a
// revocation set it is handed separately. Among opts, WithLogger and
// WithMetrics apply.
func RefuseRevoked(in *tls.Config, checker RevocationChecker, opts ...Option) *tls.Config {
	v := &verifier{cfg: newConfig(opts), side: sideServer}
	wrap := func(peer string, next func(tls.ConnectionState) error) func(tls.ConnectionState) error {
		return func(cs tls.ConnectionState) error {
			if next != nil {
				if err := next(cs); err != nil {
					return err
				}
			}
			if len(cs.PeerCertificates) == 0 {
				return nil
			}
			leaf := cs.PeerCertificates[0]
			if err := checker.CheckRevocation(leaf); err != nil {
				id, _ := spiffeid.FromCertificate(leaf)
				return v.reject(&PeerError{Reason: ErrRevoked, Side: sideServer, Peer: peer, ID: id, Serial: leaf.SerialNumber, Err: err})
			}
			return nil
		}
	}
	base := in.Clone()
	base.GetConfigForClient = nil
	inner := in.GetConfigForClient
	out := in.Clone()
	out.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		peer := ""
		if hello.Conn != nil {
			peer = hello.Conn.RemoteAddr().String()
		}
		var cfg *tls.Config
		if inner != nil {
			c, err := inner(hello)
			if err != nil {
				return nil, err
			}
			cfg = c
		}
		if cfg == nil {
			cfg = base
		}
		cfg = cfg.Clone()
		cfg.VerifyConnection = wrap(peer, cfg.VerifyConnection)
		return cfg, nil
	}
	return out
}
