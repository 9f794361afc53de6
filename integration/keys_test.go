package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/integration/natstest"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
	verdictv1 "github.com/verdict-authz/verdict/proto/verdict/v1"
)

// TestSigningKeyRotation rotates the PAP's signing key while PDPs run.
// The PDPs trust only an offline root key locally and learn the PAP's
// keys from signed key sets, so that retiring a key is observable: after
// the rotation every PDP reports the new key set before the PAP signs with
// the new key, the next push is accepted by every PDP, and once the
// overlap has passed (on the PDPs' clock) a bundle signed with the old key is
// refused.
func TestSigningKeyRotation(t *testing.T) {
	url := natstest.URL(t)
	p := startPAP(t, url, testStore(t, filepath.Join(t.TempDir(), "pap.db")))
	root, err := bundle.GenerateSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	// The offline root vouches for the PAP's first key.
	first, err := bundle.SignKeySet(bundle.KeySet{Version: 1, IssuedAt: time.Now(), Keys: []bundle.PublicKey{p.key.PublicKey()}}, root)
	if err != nil {
		t.Fatal(err)
	}
	publishKeySet(t, url, p, first)
	r1 := push(t, p, "todo", "")

	// The PDPs' clock stands still until the test moves it past the old
	// key's window, so that a slow machine cannot end the overlap early.
	var pdpClock atomic.Int64
	pdpClock.Store(time.Now().UnixNano())
	clock := bundle.WithClock(func() time.Time { return time.Unix(0, pdpClock.Load()) })
	var pdps []*testPDP
	for i := range 3 {
		trust, err := bundle.NewTrustStore([]bundle.PublicKey{root.PublicKey()}, clock)
		if err != nil {
			t.Fatal(err)
		}
		pdps = append(pdps, startPDP(t, url, p, "todo", fmt.Sprintf("rot-%d", i), "", bundlesource.WithTrustStore(trust)))
	}
	for _, d := range pdps {
		waitRevision(t, d, r1.GetNumber(), 10*time.Second)
	}
	waitLive(t, p, "todo", 3)

	ctx := context.Background()
	const overlap = time.Hour
	rot, err := p.client.RotateSigningKey(ctx, connect.NewRequest(&verdictv1.RotateSigningKeyRequest{OverlapSeconds: int64(overlap / time.Second), PropagationTimeoutSeconds: 10}))
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	m := rot.Msg
	if m.GetOldKeyId() != p.key.KeyID() || m.GetNewKeyId() == p.key.KeyID() || m.GetKeySetVersion() != 2 {
		t.Fatalf("rotation %v: want old key %s, a new key, key set version 2", m, p.key.KeyID())
	}
	if m.GetLiveCount() != 3 || m.GetConfirmedCount() != 3 || len(m.GetStragglers()) != 0 {
		t.Fatalf("rotation confirmed by %d of %d PDPs (stragglers %v), want all 3 before switching", m.GetConfirmedCount(), m.GetLiveCount(), m.GetStragglers())
	}
	keys, err := p.client.ListSigningKeys(ctx, connect.NewRequest(&verdictv1.ListSigningKeysRequest{}))
	if err != nil {
		t.Fatal(err)
	}
	if keys.Msg.GetSigningKeyId() != m.GetNewKeyId() || keys.Msg.GetKeySetVersion() != 2 || len(keys.Msg.GetKeys()) != 2 {
		t.Fatalf("keys after rotation: %v", keys.Msg)
	}

	// The next push is signed with the new key and accepted everywhere.
	r2 := push(t, p, "todo", "after rotation")
	for _, d := range pdps {
		waitRevision(t, d, r2.GetNumber(), 10*time.Second)
		if err := d.src.LastError(); err != nil {
			t.Fatalf("PDP %s: %v", d.src.Instance(), err)
		}
		if hb := d.src.Heartbeat(); hb.KeySetVersion != 2 {
			t.Fatalf("PDP %s reports key set version %d, want 2", d.src.Instance(), hb.KeySetVersion)
		}
	}
	if kid := lastBundleSigner(t, url, p, "todo"); kid != m.GetNewKeyId() {
		t.Fatalf("revision %d signed by %s, want the new key %s", r2.GetNumber(), kid, m.GetNewKeyId())
	}

	// Within the overlap a bundle still signed with the old key is good;
	// after it, the old key is retired and such a bundle is refused.
	a := newAttacker(t, url, p, "todo")
	a.publish(signedAs(t, p, p.key, r2.GetNumber()+1))
	for _, d := range pdps {
		waitRevision(t, d, r2.GetNumber()+1, 10*time.Second)
	}
	pdpClock.Store(m.GetOldKeyNotAfter().AsTime().Add(time.Second).UnixNano())
	a.publish(signedAs(t, p, p.key, r2.GetNumber()+2))
	for _, d := range pdps {
		deadline := time.Now().Add(10 * time.Second)
		for !errors.Is(d.src.LastError(), bundle.ErrUnknownKey) {
			if time.Now().After(deadline) {
				t.Fatalf("PDP %s: last error %v, want the retired key refused", d.src.Instance(), d.src.LastError())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if d.src.Revision() != uint64(r2.GetNumber()+1) {
			t.Fatalf("PDP %s moved to revision %d with a retired key", d.src.Instance(), d.src.Revision())
		}
		d.checkOrder(t, d.src.Instance())
	}
	// The PAP lists the old key with the end of its window.
	for _, k := range keys.Msg.GetKeys() {
		if k.GetKeyId() == p.key.KeyID() && (k.GetSigning() || k.GetRetired() || !k.GetNotAfter().AsTime().Equal(m.GetOldKeyNotAfter().AsTime())) {
			t.Fatalf("old key listed as %v, want trusted until %s", k, m.GetOldKeyNotAfter().AsTime())
		}
	}
}

// publishKeySet puts a key set on the PAP's keys subject, as an operator
// publishing a set signed offline would.
func publishKeySet(t testing.TB, url string, p *testPAP, ks *bundle.SignedKeySet) {
	t.Helper()
	data, err := ks.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(dial(t, url, "operator"))
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(bundlesource.Subjects{Prefix: p.ns.prefix}.Keys())
	msg.Header.Set(bundlesource.HeaderKind, bundlesource.KindKeySet)
	msg.Header.Set(bundlesource.HeaderRevision, fmt.Sprint(ks.KeySet().Version))
	msg.Data = data
	if _, err := js.PublishMsg(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
}

// lastBundleSigner returns the key id of the bundle last published for
// service.
func lastBundleSigner(t testing.TB, url string, p *testPAP, service string) string {
	t.Helper()
	js, err := jetstream.New(dial(t, url, "inspector"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := js.Stream(ctx, p.ns.stream)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := st.GetLastMsgForSubject(ctx, bundlesource.Subjects{Prefix: p.ns.prefix}.Bundle(service))
	if err != nil {
		t.Fatal(err)
	}
	b, err := bundle.Read(bytes.NewReader(msg.Data))
	if err != nil {
		t.Fatal(err)
	}
	return b.Manifest().KeyID
}

// waitLive waits until the PAP sees n live PDPs of service.
func waitLive(t testing.TB, p *testPAP, service string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := p.client.RolloutStatus(context.Background(), connect.NewRequest(&verdictv1.RolloutStatusRequest{Service: service}))
		if err == nil && int(st.Msg.GetRollout().GetLiveCount()) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("PAP sees %v live PDPs of %s (err %v), want %d", st.Msg.GetRollout().GetLiveCount(), service, err, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
