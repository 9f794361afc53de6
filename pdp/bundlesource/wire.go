package bundlesource

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

// Defaults of the wire contract, shared by the PAP's publisher and every
// Source so that both sides agree without configuration.
const (
	// DefaultSubjectPrefix is the first token of every Verdict subject.
	DefaultSubjectPrefix = "verdict"
	// DefaultStream is the JetStream stream holding bundles and key sets.
	DefaultStream = "VERDICT_BUNDLES"
	// DefaultHeartbeatInterval is how often a Source reports its state; the
	// PAP considers a PDP gone after three intervals without a heartbeat.
	DefaultHeartbeatInterval = 5 * time.Second
)

// Message headers of bundle and key set messages.
const (
	// HeaderKind says what the payload is: KindBundle, KindPointer or
	// KindKeySet. A message without it is read as a bundle.
	HeaderKind = "Verdict-Kind"
	// HeaderRevision repeats the bundle's revision (or the key set's
	// version), so that a publisher can order its writes by reading only
	// the last message's headers.
	HeaderRevision = "Verdict-Revision"
	// HeaderDigest repeats the bundle's content digest.
	HeaderDigest = "Verdict-Digest"
)

// Values of HeaderKind.
const (
	// KindBundle: the payload is a bundle archive.
	KindBundle = "bundle"
	// KindPointer: the payload is a JSON Pointer to an Object Store object
	// holding the archive.
	KindPointer = "pointer"
	// KindKeySet: the payload is a signed key set (bundle.ParseKeySet).
	KindKeySet = "keyset"
)

// Subjects names the NATS subjects of one Verdict deployment. Tests and
// multi-tenant deployments use distinct prefixes to stay apart on a shared
// server.
type Subjects struct {
	// Prefix is the first token(s) of every subject; empty means
	// DefaultSubjectPrefix.
	Prefix string
}

func (s Subjects) prefix() string {
	if s.Prefix == "" {
		return DefaultSubjectPrefix
	}
	return s.Prefix
}

// Bundle is the subject a service's bundles are published on.
func (s Subjects) Bundle(service string) string { return s.prefix() + ".bundle." + service }

// Bundles matches every service's bundle subject, for the stream's
// configuration.
func (s Subjects) Bundles() string { return s.prefix() + ".bundle.*" }

// Keys is the subject of the signed key set.
func (s Subjects) Keys() string { return s.prefix() + ".keys" }

// Status is the heartbeat subject of one PDP instance of a service.
func (s Subjects) Status(service, instance string) string {
	return s.prefix() + ".status." + service + "." + instance
}

// AllStatus matches every heartbeat, for the PAP's rollout view.
func (s Subjects) AllStatus() string { return s.prefix() + ".status.*.*" }

// ValidatePrefix refuses a prefix that would not form valid subjects: one
// or more dot-separated tokens without wildcards or white space.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	for tok := range strings.SplitSeq(prefix, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return fmt.Errorf("bundlesource: subject prefix %q is not a sequence of subject tokens", prefix)
		}
	}
	return nil
}

// ValidateInstance refuses an instance id that is not one subject token of
// [A-Za-z0-9_-], at most 128 bytes.
func ValidateInstance(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("bundlesource: instance id %q must be 1 to 128 bytes", id)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("bundlesource: instance id %q: byte %q is not allowed (want [A-Za-z0-9_-])", id, c)
		}
	}
	return nil
}

// Pointer is the payload of a KindPointer message: where the bundle of a
// revision too large for one NATS message was stored. It is not signed;
// the bundle it leads to is, and must match it.
type Pointer struct {
	// Service is the bundle's service.
	Service string `json:"service"`
	// Revision is the bundle's revision.
	Revision uint64 `json:"revision"`
	// Digest is the bundle's content digest.
	Digest string `json:"digest"`
	// Bucket is the JetStream Object Store bucket.
	Bucket string `json:"bucket"`
	// Object is the object's name in the bucket.
	Object string `json:"object"`
	// Size is the archive's size in bytes, checked before fetching it.
	Size int64 `json:"size"`
}

// ParsePointer decodes and checks a pointer message payload.
func ParsePointer(data []byte) (Pointer, error) {
	var p Pointer
	if err := json.Unmarshal(data, &p); err != nil {
		return Pointer{}, fmt.Errorf("%w: pointer: %w", bundle.ErrFormat, err)
	}
	switch {
	case bundle.ValidateServiceName(p.Service) != nil:
		return Pointer{}, fmt.Errorf("%w: pointer: bad service %q", bundle.ErrFormat, p.Service)
	case p.Revision == 0:
		return Pointer{}, fmt.Errorf("%w: pointer: revision 0", bundle.ErrFormat)
	case p.Bucket == "" || p.Object == "":
		return Pointer{}, fmt.Errorf("%w: pointer: bucket and object are required", bundle.ErrFormat)
	case p.Size < 0:
		return Pointer{}, fmt.Errorf("%w: pointer: negative size", bundle.ErrFormat)
	}
	return p, nil
}

// Heartbeat is what a Source publishes on its status subject: which
// revision it decides with, and why it may be stuck on it.
type Heartbeat struct {
	// Service is the service the PDP decides for.
	Service string `json:"service"`
	// Instance identifies the PDP process.
	Instance string `json:"instance"`
	// Revision is the active revision, 0 before the first bundle.
	Revision uint64 `json:"revision"`
	// Digest is the active bundle's content digest.
	Digest string `json:"digest"`
	// LastError is the last refusal (bad signature, stale revision,
	// compile failure...) since the last activation, empty when healthy.
	LastError string `json:"last_error"`
	// Time is when the heartbeat was sent.
	Time time.Time `json:"time"`
	// IntervalMS is the PDP's heartbeat interval in milliseconds, so that
	// the PAP can tell when this PDP has missed three.
	IntervalMS int64 `json:"interval_ms,omitempty"`
	// KeySetVersion is the version of the signing key set the PDP last
	// applied (0 when it trusts only its configured keys), so that the PAP
	// signs with a new key only once PDPs have learned it.
	KeySetVersion uint64 `json:"key_set_version,omitempty"`
	// Stopping is set on the last heartbeat of a PDP that shuts down
	// cleanly, so that it leaves rollout views at once.
	Stopping bool `json:"stopping,omitempty"`
}

// Interval returns the heartbeat interval the PDP announced, or
// DefaultHeartbeatInterval when it announced none.
func (h Heartbeat) Interval() time.Duration {
	if h.IntervalMS <= 0 {
		return DefaultHeartbeatInterval
	}
	return time.Duration(h.IntervalMS) * time.Millisecond
}
