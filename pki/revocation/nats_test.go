package revocation_test

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/integration/natstest"

	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/pki/ca"
	"github.com/verdict-authz/verdict/pki/revocation"
)

// Generous: propagation normally takes milliseconds.
const propagationTimeout = 10 * time.Second

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(propagationTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, propagationTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRevocationReachesSubscriberAndClosesConnections(t *testing.T) {
	p := newPropagation(t)
	web := p.issue(t, "web")
	other := p.issue(t, "api")
	conn, err := p.dial(t, web)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bystander, err := p.dial(t, other)
	if err != nil {
		t.Fatal(err)
	}
	defer bystander.Close()

	serial := web.Leaf().SerialNumber
	if err := p.ca.Revoke(t.Context(), ca.RevokeRequest{Caller: p.ca.Admins()[0], Serial: serial, Reason: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "subscriber set has the serial", func() bool { _, ok := p.set.Lookup(serial); return ok })
	e, _ := p.set.Lookup(serial)
	if e.Reason != 1 || e.RevokedAt.IsZero() || !e.NotAfter.Equal(web.Leaf().NotAfter) {
		t.Fatalf("entry = %+v", e)
	}
	if err := waitClosed(conn, propagationTimeout); err != nil {
		t.Fatalf("live connection of the revoked certificate: %v", err)
	}
	if err := echo(bystander); err != nil {
		t.Fatalf("connection of another certificate was disturbed: %v", err)
	}
	if c, err := p.dial(t, web); err == nil {
		c.Close()
		t.Fatal("revoked certificate accepted on a new connection")
	}
}

func TestSubscriberDropsMalformedEvents(t *testing.T) {
	url := natstest.URL(t)
	subject := uniqueSubject()
	set := revocation.NewSet()
	sub, err := revocation.Subscribe(t.Context(), connectNATS(t, url), set, revocation.WithSubject(subject), revocation.WithNATSLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	nc := connectNATS(t, url)
	for _, bad := range []string{`not json`, `{"serial":"abc"}`, `{"serial":"-5"}`, `{"serial":"0x10"}`} {
		if err := nc.Publish(subject, []byte(bad)); err != nil {
			t.Fatal(err)
		}
	}
	pub := revocation.NewPublisher(nc, revocation.WithSubject(subject))
	if err := pub.Publish(t.Context(), revocation.Entry{Serial: big.NewInt(4242), RevokedAt: time.Now(), Reason: 4}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "valid event applied", func() bool { _, ok := set.Lookup(big.NewInt(4242)); return ok })
	if set.Len() != 1 {
		t.Fatalf("set has %d entries, want only the valid one", set.Len())
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sub.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := pub.Publish(t.Context(), revocation.Entry{Serial: big.NewInt(7), RevokedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, ok := set.Lookup(big.NewInt(7)); ok {
		t.Fatal("closed subscriber still applies events")
	}
}

func TestEventRoundTrip(t *testing.T) {
	na := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	in := revocation.Entry{Serial: new(big.Int).Lsh(big.NewInt(1), 120), RevokedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Reason: 9, NotAfter: na}
	ev := revocation.EventOf(in)
	if ev.Serial != in.Serial.String() {
		t.Fatalf("serial %q", ev.Serial)
	}
	out, err := revocation.ParseEvent([]byte(`{"serial":"` + ev.Serial + `","time":"2026-01-01T00:00:00Z","reason":9,"not_after":"2030-01-02T03:04:05Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	if out.Serial.Cmp(in.Serial) != 0 || !out.RevokedAt.Equal(in.RevokedAt) || out.Reason != 9 || !out.NotAfter.Equal(na) {
		t.Fatalf("round trip %+v != %+v", out, in)
	}
}

func TestPublishFailsWhenClosed(t *testing.T) {
	nc := connectNATS(t, natstest.URL(t))
	pub := revocation.NewPublisher(nc, revocation.WithSubject(uniqueSubject()), revocation.WithNATSLogger(quiet()))
	nc.Close()
	err := pub.Publish(t.Context(), revocation.Entry{Serial: big.NewInt(1)})
	if !errors.Is(err, nats.ErrConnectionClosed) {
		t.Fatalf("publish on a closed connection: %v, want %v", err, nats.ErrConnectionClosed)
	}
}
