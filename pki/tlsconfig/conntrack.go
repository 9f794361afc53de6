package tlsconfig

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/big"
	"net"
	"sync"

	"github.com/verdict-authz/verdict/pki/revocation"
)

// RevocationFeed delivers revocations as they happen; revocation.Set
// implements it (fed by the CA in-process, or by NATS events).
type RevocationFeed interface {
	Subscribe(f func(revocation.Entry)) (cancel func())
}

// ConnTracker remembers live TLS connections and closes those whose peer
// certificate gets revoked. VerifyConnection stops new and resumed
// handshakes; the tracker cuts off connections that were established before
// the revocation.
type ConnTracker struct {
	cfg   config
	mu    sync.Mutex
	conns map[*tls.Conn]struct{}
	// raw holds the connections of servers that do their own TLS
	// wrapping and give no close hook (ServerConfig: nats-server), with
	// their peer's serial; closed ones are pruned.
	raw        map[net.Conn]*big.Int
	rawPruneAt int
	// handshaken are connections whose handshake ran in gRPC transport
	// credentials, with their peer's serial; Close untracks them.
	handshaken map[*handshakenConn]*big.Int
	closed     bool
	cancel     func()
	wg         sync.WaitGroup
	once       sync.Once
}

// NewConnTracker subscribes to feed. Only WithLogger applies among opts.
func NewConnTracker(feed RevocationFeed, opts ...Option) *ConnTracker {
	t := &ConnTracker{cfg: newConfig(opts), conns: make(map[*tls.Conn]struct{}), handshaken: make(map[*handshakenConn]*big.Int)}
	t.cancel = feed.Subscribe(t.revoked)
	return t
}

// trackedConn removes its TLS connection from the tracker when closed.
type trackedConn struct {
	net.Conn
	t    *ConnTracker
	tls  *tls.Conn
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c.tls)
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}

func (t *ConnTracker) track(raw net.Conn, wrap func(net.Conn) *tls.Conn) *tls.Conn {
	tc := &trackedConn{Conn: raw, t: t}
	c := wrap(tc)
	tc.tls = c
	t.mu.Lock()
	t.conns[c] = struct{}{}
	t.mu.Unlock()
	return c
}

// Listener wraps inner so that it yields tracked *tls.Conn using cfg (what
// http.Server.Serve and grpc.Server.Serve expect from a TLS listener); like
// the package-level Listener, connections close gracefully.
func (t *ConnTracker) Listener(inner net.Listener, cfg *tls.Config) net.Listener {
	return &trackedListener{Listener: inner, t: t, cfg: cfg}
}

type trackedListener struct {
	net.Listener
	t   *ConnTracker
	cfg *tls.Config
}

func (l *trackedListener) Accept() (net.Conn, error) {
	raw, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.t.track(newLingerConn(raw), func(c net.Conn) *tls.Conn { return tls.Server(c, l.cfg) }), nil
}

// DialTLSContext returns a dial function for http.Transport.DialTLSContext
// that handshakes with cfg and tracks the connection.
func (t *ConnTracker) DialTLSContext(cfg *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := cfg.Clone()
		if c.ServerName == "" {
			if host, _, err := net.SplitHostPort(addr); err == nil {
				c.ServerName = host
			}
		}
		conn := t.track(raw, func(nc net.Conn) *tls.Conn { return tls.Client(nc, c) })
		if err := conn.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return conn, nil
	}
}

// Len returns the number of tracked connections.
func (t *ConnTracker) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns) + len(t.raw) + len(t.handshaken)
}

// revoked runs on the feed's goroutine, which must not block: the scan, which
// may wait for handshakes in progress, runs separately.
func (t *ConnTracker) revoked(e revocation.Entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.revokedRaw(e.Serial)
	for c := range t.conns {
		// One goroutine per connection: ConnectionState waits for a
		// handshake in progress, which must not hold up the others.
		t.wg.Go(func() {
			cs := c.ConnectionState()
			if !cs.HandshakeComplete || len(cs.PeerCertificates) == 0 || cs.PeerCertificates[0].SerialNumber.Cmp(e.Serial) != 0 {
				return
			}
			t.cfg.logger.Warn("tls: closing connection of revoked peer", "peer", c.RemoteAddr().String(),
				"serial", fmt.Sprintf("%x", e.Serial))
			_ = c.Close()
		})
	}
	for c, serial := range t.handshaken {
		if serial.Cmp(e.Serial) != 0 {
			continue
		}
		// Close untracks, which takes t.mu: not on this goroutine.
		t.wg.Go(func() {
			t.cfg.logger.Warn("tls: closing connection of revoked peer", "peer", c.RemoteAddr().String(),
				"serial", fmt.Sprintf("%x", e.Serial))
			_ = c.Close()
		})
	}
}

// Close unsubscribes and waits for closings in progress; tracked
// connections stay open. It is idempotent.
func (t *ConnTracker) Close() error {
	t.once.Do(func() {
		t.cancel()
		t.mu.Lock()
		t.closed = true
		t.mu.Unlock()
		t.wg.Wait()
	})
	return nil
}
