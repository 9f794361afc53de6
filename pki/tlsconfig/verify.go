package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"golang.org/x/crypto/ocsp"

	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// Sides of a handshake, as logs and metrics name them.
const (
	sideServer = "server"
	sideClient = "client"
)

// verifier checks peer certificates against the Source's current bundle.
type verifier struct {
	src  *Source
	cfg  config
	side string
}

// verify is the VerifyConnection body. peer is the remote address (server
// side) or server name (client side), for logs only.
func (v *verifier) verify(peer string, cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		if v.side == sideServer && v.cfg.optional {
			return nil
		}
		return v.reject(&PeerError{Reason: ErrNoCertificate, Side: v.side, Peer: peer})
	}
	leaf := cs.PeerCertificates[0]
	id, idErr := spiffeid.FromCertificate(leaf)
	perr := func(reason, detail error) error {
		return v.reject(&PeerError{Reason: reason, Side: v.side, Peer: peer, ID: id, Serial: leaf.SerialNumber, Err: detail})
	}

	usage := x509.ExtKeyUsageClientAuth
	if v.side == sideClient {
		usage = x509.ExtKeyUsageServerAuth
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		Roots:         v.src.Bundle().Pool(),
		Intermediates: inter,
		CurrentTime:   v.cfg.now(),
		KeyUsages:     []x509.ExtKeyUsage{usage},
	})
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			return perr(ErrExpired, err)
		}
		return perr(ErrUntrusted, err)
	}

	switch {
	case v.cfg.authorizer != nil:
		if idErr != nil && !isAny(v.cfg.authorizer) {
			return perr(ErrWrongIdentity, idErr)
		}
		if err := v.cfg.authorizer.AuthorizeID(id); err != nil {
			return perr(ErrWrongIdentity, err)
		}
	case v.side == sideClient:
		if cs.ServerName == "" {
			return perr(ErrWrongIdentity, errors.New("no expected identity or server name configured"))
		}
		if err := leaf.VerifyHostname(cs.ServerName); err != nil {
			return perr(ErrWrongIdentity, err)
		}
	}

	if v.cfg.revocation != nil {
		if err := v.cfg.revocation.CheckRevocation(leaf); err != nil {
			return perr(ErrRevoked, err)
		}
	}
	if len(cs.OCSPResponse) > 0 && len(chains) > 0 && len(chains[0]) > 1 {
		if resp, err := ocsp.ParseResponseForCert(cs.OCSPResponse, leaf, chains[0][1]); err == nil && resp.Status == ocsp.Revoked {
			return perr(ErrRevoked, fmt.Errorf("stapled OCSP response says revoked at %s", resp.RevokedAt))
		}
	}
	v.cfg.metrics.observe(v.side, id, "ok")
	return nil
}

func isAny(a Authorizer) bool {
	_, ok := a.(anyID)
	return ok
}

// reject logs the refusal (one line with the reason) and counts it.
func (v *verifier) reject(e *PeerError) error {
	attrs := []any{"side", v.side, "peer", e.Peer, "reason", reasonLabel(e.Reason)}
	if !e.ID.IsZero() {
		attrs = append(attrs, "peer_id", e.ID.String())
	}
	if e.Serial != nil {
		attrs = append(attrs, "serial", fmt.Sprintf("%x", e.Serial))
	}
	if e.Err != nil {
		attrs = append(attrs, "detail", e.Err.Error())
	}
	v.cfg.logger.Warn("tls: refused peer certificate", attrs...)
	v.cfg.metrics.observe(v.side, e.ID, reasonLabel(e.Reason))
	return e
}
