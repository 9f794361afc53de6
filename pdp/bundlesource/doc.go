// Package bundlesource feeds a PDP engine from the bundles the PAP
// publishes on NATS JetStream, so that every PDP of a service (embedded in
// the SDK or the remote `verdict pdp serve`) runs the latest signed
// revision without polling and without ever going back to an older one.
//
// It depends on the bundle format (pdp/bundle) and the engine (pdp) only:
// a PDP never imports the PAP, the authoring language or the SDK.
//
// # Wire contract
//
// With the default subject prefix "verdict":
//
//	verdict.bundle.<service>             JetStream, one message per revision
//	verdict.keys                         JetStream, the latest signed key set
//	verdict.status.<service>.<instance>  core NATS, PDP heartbeats (JSON)
//
// A bundle message carries the archive (bundle.Bundle.MarshalBinary) with
// the header Verdict-Kind: bundle. A bundle too large for one NATS message
// lives in a JetStream Object Store; its message carries Verdict-Kind:
// pointer and a JSON Pointer naming the bucket, object, revision and
// digest. Verdict-Revision and Verdict-Digest headers repeat what the
// signed manifest says, for tools and for the publisher's ordering check;
// the Source believes only the signed manifest.
//
// # Ordering and trust
//
// The Source reads its service's subject with an ordered, durable-less
// consumer that starts from the last message of the subject and resumes
// after the last one it saw when the connection or the server comes back,
// so no published revision is skipped. Each bundle must be signed by a
// trusted key, be for the configured service and be strictly newer than
// the active revision: a tampered, unsigned, wrongly signed or replayed
// old bundle is refused, the active one keeps deciding, and the refusal is
// reported in the heartbeat's last_error. A redelivery of the active
// revision (same revision and digest) is not an error.
//
// Heartbeats also carry the version of the key set the PDP applied
// (key_set_version), which is how the PAP knows that PDPs learned a new
// signing key before it signs bundles with it.
//
// # Many PDPs in one process
//
// Sources created WithGroup(g) share a Group: each archive is decompressed,
// parsed and signature-checked once for all of them (every Source still
// applies its own trust store, service and revision order), and at most a
// bounded number compile at the same time, so that a burst of activations
// never delays the delivery and verification of the next bundle.
//
// Every activated bundle is written to the cache directory (with the key
// set that vouches for its key), so that a PDP restarting while NATS is
// unreachable starts on its last-known-good revision.
package bundlesource
