package tlsconfig

import (
	"crypto/tls"
	"fmt"
	"math/big"
	"net"
	"syscall"
)

// minRawPrune is the number of tracked raw connections below which closed
// ones are not looked for.
const minRawPrune = 64

// ServerConfig returns a copy of cfg (a configuration from ServerConfig)
// whose handshakes register their connection with the tracker, for servers
// that wrap connections in TLS themselves — http.Server.ServeTLS, gRPC
// transport credentials, nats-server — where the tracker cannot hand out
// the *tls.Conn. The tracker remembers the underlying connection and the
// peer's serial once VerifyConnection accepted it (resumed sessions
// included), and closes that connection when the serial is revoked.
func (t *ConnTracker) ServerConfig(cfg *tls.Config) *tls.Config {
	out := cfg.Clone()
	inner := cfg.GetConfigForClient
	out.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		var c *tls.Config
		if inner != nil {
			got, err := inner(hello)
			if err != nil {
				return nil, err
			}
			c = got
		}
		if c == nil {
			c = cfg.Clone()
			c.GetConfigForClient = nil
		} else {
			c = c.Clone()
		}
		raw := hello.Conn
		verify := c.VerifyConnection
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if verify != nil {
				if err := verify(cs); err != nil {
					return err
				}
			}
			if raw != nil && len(cs.PeerCertificates) > 0 {
				t.trackRaw(raw, cs.PeerCertificates[0].SerialNumber)
			}
			return nil
		}
		return c, nil
	}
	return out
}

func (t *ConnTracker) trackRaw(c net.Conn, serial *big.Int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.raw == nil {
		t.raw = make(map[net.Conn]*big.Int)
	}
	t.raw[c] = serial
	if len(t.raw) < max(minRawPrune, t.rawPruneAt) {
		return
	}
	// Servers close connections without telling the tracker: drop the
	// closed ones when the map has doubled since the last sweep.
	for rc := range t.raw {
		if rawClosed(rc) {
			delete(t.raw, rc)
		}
	}
	t.rawPruneAt = 2 * len(t.raw)
}

// revokedRaw closes the raw connections of serial; t.mu is held.
func (t *ConnTracker) revokedRaw(serial *big.Int) {
	for rc, s := range t.raw {
		if s.Cmp(serial) != 0 {
			continue
		}
		delete(t.raw, rc)
		if rawClosed(rc) {
			continue
		}
		t.cfg.logger.Warn("tls: closing connection of revoked peer", "peer", rc.RemoteAddr().String(),
			"serial", fmt.Sprintf("%x", serial))
		_ = rc.Close()
	}
}

// rawClosed reports whether a socket was closed, without touching an open
// one (no read, no deadline change).
func rawClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	return rc.Control(func(uintptr) {}) != nil
}
