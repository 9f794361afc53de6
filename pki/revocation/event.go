package revocation

import (
	"encoding/json"
	"fmt"
	"math/big"
	"time"
)

// Subject is the NATS subject revocation events are published on, so that
// every PDP, the PAP and remote PDPs hear of a revocation within moments.
const Subject = "verdict.revocation"

// Event is the wire form of a revocation on NATS. The serial is decimal, as
// the CA's APIs print it, so operators can match events to CLI output.
type Event struct {
	// Serial is the revoked certificate's serial number, decimal.
	Serial string `json:"serial"`
	// Time is when the CA recorded the revocation.
	Time time.Time `json:"time"`
	// Reason is the RFC 5280 CRLReason code.
	Reason int `json:"reason"`
	// NotAfter is the revoked certificate's expiry, so receivers can prune
	// the entry once validity checks reject the certificate anyway; omitted
	// when unknown.
	NotAfter *time.Time `json:"not_after,omitempty"`
}

// EventOf turns a Set entry into its wire form.
func EventOf(e Entry) Event {
	ev := Event{Serial: e.Serial.String(), Time: e.RevokedAt.UTC(), Reason: e.Reason}
	if !e.NotAfter.IsZero() {
		na := e.NotAfter.UTC()
		ev.NotAfter = &na
	}
	return ev
}

// ParseEvent decodes and checks an event. A malformed event is an error, so
// that it is dropped rather than revoking a wrong serial.
func ParseEvent(data []byte) (Entry, error) {
	var ev Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return Entry{}, fmt.Errorf("revocation: event: %w", err)
	}
	serial, ok := new(big.Int).SetString(ev.Serial, 10)
	if !ok || serial.Sign() <= 0 {
		return Entry{}, fmt.Errorf("revocation: event: serial %q is not a positive decimal number", ev.Serial)
	}
	e := Entry{Serial: serial, RevokedAt: ev.Time, Reason: ev.Reason}
	if ev.NotAfter != nil {
		e.NotAfter = *ev.NotAfter
	}
	return e, nil
}
