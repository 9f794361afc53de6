package audit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/verdict-authz/verdict/audit"
	"github.com/verdict-authz/verdict/integration/natstest"
)

// TestNATSCheckpointsPublish: a checkpoint published with a context that
// has no deadline (the collector's own) reaches a subscriber of the
// service's subject, signature intact.
func TestNATSCheckpointsPublish(t *testing.T) {
	e := newEnv(t, natstest.URL(t))
	sub, err := e.nc.SubscribeSync(e.cpPrefx + ".orders")
	if err != nil {
		t.Fatal(err)
	}
	signer := newSigner(t)
	cp := signer.Sign("orders", audit.Link{Seq: 7, Hash: "sha256:00"}, time.Now())
	if err := audit.NewNATSCheckpoints(e.nc, e.cpPrefx).PublishCheckpoint(t.Context(), cp); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got audit.Checkpoint
	if err := json.Unmarshal(msg.Data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Seq != 7 || got.Service != "orders" || audit.NewKeys(signer.PublicKey()).Verify(got) != nil {
		t.Fatalf("received %+v", got)
	}
}
