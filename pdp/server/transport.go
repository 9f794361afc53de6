package server

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
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
