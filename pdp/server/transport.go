package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// Errors of transport configuration, matched with errors.Is.
var (
	// ErrNoTransportSecurity: neither WithTLS nor WithInsecurePlaintext was
	// given. Verdict never falls back to plaintext by accident.
	ErrNoTransportSecurity = errors.New("server: TLS configuration required (or the explicit insecure plaintext opt-out)")
	// ErrPlaintextNotLoopback: plaintext was asked for on an address other
	// hosts can reach.
	ErrPlaintextNotLoopback = errors.New("server: insecure plaintext is only allowed on loopback addresses")
)

// CheckLoopback returns nil when addr (host:port, as given to net.Listen or
// returned by a listener) can only be reached from this machine: a
// loopback IP or "localhost". An empty host listens on every interface and
// fails. cmd uses it to refuse a plaintext configuration before binding.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrPlaintextNotLoopback, addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil || !ip.Unmap().IsLoopback() {
		return fmt.Errorf("%w: %q", ErrPlaintextNotLoopback, addr)
	}
	return nil
}

// serverTLS returns the TLS configuration the servers use: a clone of the
// given one, requiring client certificates whenever client CAs are set, so
// that configuring a CA can never silently leave clients unauthenticated.
func serverTLS(in *tls.Config) *tls.Config {
	cfg := in.Clone()
	if cfg.ClientCAs != nil && cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	// Serve hands net/http a TLS listener, so HTTP/2 (gRPC-protocol
	// Connect clients) must be offered here rather than by ServeTLS.
	if !slices.Contains(cfg.NextProtos, "h2") {
		cfg.NextProtos = append([]string{"h2"}, cfg.NextProtos...)
	}
	if !slices.Contains(cfg.NextProtos, "http/1.1") {
		cfg.NextProtos = append(cfg.NextProtos, "http/1.1")
	}
	return cfg
}
