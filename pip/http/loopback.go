package http

import (
	"fmt"
	"net"
	"strings"
	"syscall"
)

// isLoopbackHost reports whether a URL host names the loopback interface:
// "localhost" or a loopback IP literal. Other names are refused rather
// than resolved, because what they resolve to can change.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackOnly is a net.Dialer Control function that refuses any
// connection whose remote address is not loopback, so that "localhost"
// mapped elsewhere cannot carry plaintext queries off the machine.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInsecure, address, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: plaintext connection to non-loopback address %s (%s)", ErrInsecure, address, network)
	}
	return nil
}
