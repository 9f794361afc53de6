package tlsconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
)

// ErrNotLoopback means plaintext was requested on an address that is not
// loopback-only.
var ErrNotLoopback = errors.New("tlsconfig: plaintext is only allowed on loopback addresses")

// CheckLoopback accepts "host:port" (or a bare host) when the host is
// "localhost" or a loopback IP. An empty host (all interfaces) and any other
// name are refused: names can resolve elsewhere.
func CheckLoopback(addr string) error {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w: %q", ErrNotLoopback, addr)
}

// ListenPlaintext is the explicit opt-out from TLS for servers: it listens
// only if addr is loopback, and logs that it does so.
func ListenPlaintext(ctx context.Context, l *slog.Logger, network, addr string) (net.Listener, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if err := CheckLoopback(ln.Addr().String()); err != nil {
		_ = ln.Close()
		return nil, err
	}
	if l == nil {
		l = slog.Default()
	}
	l.WarnContext(ctx, "tls: plaintext listener (loopback opt-out)", "addr", ln.Addr().String())
	return ln, nil
}

// DialPlaintext is the explicit opt-out from TLS for clients: it dials only
// if addr is loopback.
func DialPlaintext(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}
