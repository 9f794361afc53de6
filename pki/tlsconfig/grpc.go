package tlsconfig

import (
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"
)

// ServerCredentials returns gRPC transport credentials that handshake with
// cfg, exactly as credentials.NewTLS(cfg) does (peers keep their
// credentials.TLSInfo), and track each connection so that a revocation of
// the client's certificate closes it. gRPC runs its handshakes itself, which
// is why the tracker's Listener cannot serve it; serve the gRPC server on
// GracefulListener so that refused clients read the alert.
func (t *ConnTracker) ServerCredentials(cfg *tls.Config) credentials.TransportCredentials {
	return &trackedCreds{TransportCredentials: credentials.NewTLS(cfg), t: t}
}

// ClientCredentials is ServerCredentials for gRPC clients: the connection
// to a server whose certificate gets revoked is closed (and the next dial
// refused by VerifyConnection, when cfg checks revocation).
func (t *ConnTracker) ClientCredentials(cfg *tls.Config) credentials.TransportCredentials {
	return &trackedCreds{TransportCredentials: credentials.NewTLS(cfg), t: t}
}

type trackedCreds struct {
	credentials.TransportCredentials
	t *ConnTracker
}

func (c *trackedCreds) ServerHandshake(raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ServerHandshake(raw)
	if err != nil {
		// gRPC only logs handshake failures to its own logger: say here
		// when the client refused us (our refusals are logged by the
		// verifier).
		if alert, ok := RemoteRejection(err); ok {
			c.t.cfg.logger.Warn(msgRejectedByPeer, rejectedByPeerAttrs(nil, time.Now(), sideServer, raw.RemoteAddr().String(), alert)...)
		}
		return nil, nil, err
	}
	return c.t.trackHandshaken(conn, info), info, nil
}

func (c *trackedCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, raw)
	if err != nil {
		return nil, nil, err
	}
	return c.t.trackHandshaken(conn, info), info, nil
}

func (c *trackedCreds) Clone() credentials.TransportCredentials {
	return &trackedCreds{TransportCredentials: c.TransportCredentials.Clone(), t: c.t}
}

// handshakenConn is a connection whose TLS handshake is done; Close
// untracks it.
type handshakenConn struct {
	net.Conn
	t    *ConnTracker
	once sync.Once
}

func (c *handshakenConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.handshaken, c)
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}

// trackHandshaken tracks conn when its peer presented a certificate.
func (t *ConnTracker) trackHandshaken(conn net.Conn, info credentials.AuthInfo) net.Conn {
	ti, ok := info.(credentials.TLSInfo)
	if !ok || len(ti.State.PeerCertificates) == 0 {
		return conn
	}
	hc := &handshakenConn{Conn: conn, t: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return conn
	}
	t.handshaken[hc] = ti.State.PeerCertificates[0].SerialNumber
	return hc
}

// GracefulListener wraps inner so that its connections close gracefully
// (see Listener) without doing TLS itself: for gRPC servers, whose
// credentials handshake, so that a client refused in VerifyConnection reads
// the "bad certificate" alert instead of a connection reset.
func GracefulListener(inner net.Listener) net.Listener { return lingerListener{inner} }
