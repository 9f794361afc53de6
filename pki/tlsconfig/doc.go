// Package tlsconfig builds the *tls.Config of every Verdict server and client
// from a Source whose certificate and trust bundle can be swapped atomically,
// so renewal and CA rotation never need a restart.
//
// Peer verification happens in VerifyConnection, which crypto/tls also runs
// on resumed sessions: the chain must lead to the current trust bundle, the
// certificate must not be revoked (RevocationChecker), and the peer's
// spiffe:// identity must satisfy the configured Authorizer. Failures are
// logged with a reason (untrusted, expired, wrong identity, revoked) and
// returned as *PeerError wrapping a sentinel.
//
// Plaintext is available only through the explicit loopback opt-out
// (ListenPlaintext, DialPlaintext, CheckLoopback).
package tlsconfig
