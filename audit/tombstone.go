package audit

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Tombstone records a retention deletion: a whole segment of a service's
// chain removed on purpose, signed, so that Verify accounts for the gap
// instead of reporting it, and the remaining chain still links to the
// removed one through LastHash.
type Tombstone struct {
	Service   string    `json:"service"`
	First     int64     `json:"first_seq"`
	Last      int64     `json:"last_seq"`
	LastHash  string    `json:"last_hash"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature,omitempty"`
}

func (t Tombstone) payload() []byte {
	t.Signature = nil
	t.Time = t.Time.UTC()
	b, _ := json.Marshal(t) // strings, ints and a time always marshal
	return append([]byte("verdict-audit-tombstone-v1\n"), b...)
}

// SignTombstone signs a tombstone for the segment first..last of service
// whose last chain hash is lastHash.
func (s *Signer) SignTombstone(service string, first, last int64, lastHash string, now time.Time) Tombstone {
	t := Tombstone{Service: service, First: first, Last: last, LastHash: lastHash, Time: now.UTC(), KeyID: s.id}
	t.Signature = ed25519.Sign(s.key, t.payload())
	return t
}

// VerifyTombstone checks t's signature with a trusted key.
func (k Keys) VerifyTombstone(t Tombstone) error {
	pub, ok := k[t.KeyID]
	if !ok {
		return fmt.Errorf("%w: unknown key %q", ErrBadSignature, t.KeyID)
	}
	if !ed25519.Verify(pub, t.payload(), t.Signature) {
		return fmt.Errorf("%w: tombstone %s %d..%d", ErrBadSignature, t.Service, t.First, t.Last)
	}
	return nil
}

// ErrNothingToRetain: no record of the service is old enough.
var ErrNothingToRetain = errors.New("audit: nothing to remove")

// Retain removes the oldest records of service, every one decided before
// cutoff, as one segment from the chain's current start, and stores a
// signed tombstone in their place. Removing only whole leading segments
// keeps the rest of the chain verifiable.
func Retain(ctx context.Context, st Store, s *Signer, service string, cutoff time.Time) (Tombstone, error) {
	var first, last int64
	var lastHash string
	stop := errors.New("stop")
	err := st.Scan(ctx, service, func(e Entry) error {
		if !e.Time.Before(cutoff) {
			return stop
		}
		if first == 0 {
			first = e.Seq
		}
		last, lastHash = e.Seq, e.Hash
		return nil
	})
	if err != nil && !errors.Is(err, stop) {
		return Tombstone{}, err
	}
	if first == 0 {
		return Tombstone{}, ErrNothingToRetain
	}
	t := s.SignTombstone(service, first, last, lastHash, time.Now())
	if err := st.Retain(ctx, t); err != nil {
		return Tombstone{}, err
	}
	return t, nil
}
