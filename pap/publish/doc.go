// Package publish turns stored revisions into signed bundles and publishes
// them on NATS JetStream, where every PDP of the service picks them up
// (pdp/bundlesource is the other side of the wire contract).
//
// One stream holds two kinds of subjects: verdict.bundle.<service>, with a
// bounded history per subject (MaxMsgsPerSubject), and verdict.keys, the
// latest signed key set. A bundle too large for one NATS message is put in
// a JetStream Object Store and the subject gets a small pointer message
// instead. A subject only ever moves forward: Publish reads the subject's
// last revision and publishes with an expected-last-sequence condition, so
// concurrent or retried publishes never leave an older revision last, and
// a PDP starting from the last message always gets the newest revision.
//
// Rollback is not a concept here: the PAP stores old content as a new
// revision, and that revision is published like any other.
package publish
