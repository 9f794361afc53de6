package tlsconfig

import (
	"errors"
	"fmt"
	"math/big"
	"net"

	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// Reasons a peer certificate is refused. A handshake error wraps exactly one
// of them; match with errors.Is.
var (
	// ErrNoCertificate means the peer presented no certificate.
	ErrNoCertificate = errors.New("tlsconfig: peer presented no certificate")
	// ErrUntrusted means the chain does not lead to the current trust bundle
	// (or the certificate may not be used for this side of TLS).
	ErrUntrusted = errors.New("tlsconfig: peer certificate is not trusted")
	// ErrExpired means the peer certificate is expired or not yet valid.
	ErrExpired = errors.New("tlsconfig: peer certificate is expired or not yet valid")
	// ErrWrongIdentity means the peer is not who this connection expects.
	ErrWrongIdentity = errors.New("tlsconfig: unexpected peer identity")
	// ErrRevoked means the peer certificate is revoked.
	ErrRevoked = errors.New("tlsconfig: peer certificate is revoked")
)

// PeerError describes a refused peer certificate.
type PeerError struct {
	// Reason is one of the sentinel errors above.
	Reason error
	// Side is "server" when this process refused a client, "client" when it
	// refused a server.
	Side string
	// Peer is the remote address (server side) or the server name (client side).
	Peer   string
	ID     spiffeid.ID
	Serial *big.Int
	// Err is the underlying detail (x509 error, authorizer message...).
	Err error
}

// Error names the reason, the peer's identity and serial, and the detail.
func (e *PeerError) Error() string {
	s := e.Reason.Error()
	if !e.ID.IsZero() {
		s += fmt.Sprintf(" (peer %s", e.ID)
	} else {
		s += " (peer without identity"
	}
	if e.Serial != nil {
		s += fmt.Sprintf(", serial %x", e.Serial)
	}
	s += ")"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes both the reason and the detail to errors.Is/As.
func (e *PeerError) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Reason}
	}
	return []error{e.Reason, e.Err}
}

// reasonLabel is the short reason used in logs and metrics.
func reasonLabel(err error) string {
	switch {
	case errors.Is(err, ErrNoCertificate):
		return "no_certificate"
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrWrongIdentity):
		return "wrong_identity"
	case errors.Is(err, ErrRevoked):
		return "revoked"
	case errors.Is(err, ErrUntrusted):
		return "untrusted"
	}
	return "error"
}

// RemoteRejection reports whether err is a TLS alert received from the peer
// (for example "tls: bad certificate" after the peer refused our
// certificate) and returns the alert text. crypto/tls reports such alerts as
// a *net.OpError with Op "remote error".
func RemoteRejection(err error) (alert string, ok bool) {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" && op.Err != nil {
		return op.Err.Error(), true
	}
	return "", false
}
