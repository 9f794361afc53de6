package revocation

import (
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
)

// WatchConn cuts a NATS client off a server whose certificate gets
// revoked: when set learns a serial that the server of nc presented in its
// TLS handshake, the connection is dropped (nc.ForceReconnect), and the
// reconnection's handshake is refused if nc's TLS configuration checks set
// (tlsconfig.WithRevocationChecker), until a server with a valid
// certificate answers. It is the NATS counterpart of tlsconfig.ConnTracker,
// which nats.go's own TLS upgrade leaves no room for. The returned
// function stops watching.
func WatchConn(nc *nats.Conn, set *Set, logger *slog.Logger) (cancel func()) {
	if logger == nil {
		logger = slog.Default()
	}
	return set.Subscribe(func(e Entry) {
		cs, err := nc.TLSConnectionState()
		if err != nil || len(cs.PeerCertificates) == 0 || cs.PeerCertificates[0].SerialNumber.Cmp(e.Serial) != 0 {
			return
		}
		logger.Warn("tls: closing connection of revoked peer", "peer", nc.ConnectedUrlRedacted(),
			"serial", fmt.Sprintf("%x", e.Serial))
		// Set.Subscribe callbacks must not block: reconnecting runs on
		// nats.go's own goroutines.
		if err := nc.ForceReconnect(); err != nil {
			logger.Warn("revocation: dropping the NATS connection failed", "error", err)
		}
	})
}
