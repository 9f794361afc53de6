package decisionlog_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
)

// fakePublisher records published messages and fails while down is set.
type fakePublisher struct {
	mu    sync.Mutex
	down  bool
	block chan struct{}
	got   map[string]decisionlog.Message
	calls int
}

func newFake() *fakePublisher { return &fakePublisher{got: map[string]decisionlog.Message{}} }

func (f *fakePublisher) PublishBatch(ctx context.Context, msgs []decisionlog.Message) error {
	f.mu.Lock()
	block := f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.down {
		return errors.New("nats down")
	}
	for _, m := range msgs {
		f.got[m.ID] = m
	}
	return nil
}

func (f *fakePublisher) setDown(d bool) {
	f.mu.Lock()
	f.down = d
	f.mu.Unlock()
}

func (f *fakePublisher) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.got)
}

func record(i int) decisionlog.Record {
	return decisionlog.Record{
		DecisionID: fmt.Sprintf("d-%06d", i),
		Time:       time.Unix(1700000000, 0).UTC(),
		Service:    "orders",
		Request: []pdp.Attribute{
			{Category: pdp.CategorySubject, ID: "id", Values: []pdp.Value{{Type: "string", Lexical: "alice"}}},
			{Category: pdp.CategorySubject, ID: "email", Values: []pdp.Value{{Type: "string", Lexical: "alice@example.com"}}},
		},
		Effect: pdp.EffectPermit,
		Status: pdp.Status{Code: pdp.StatusOK},
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var total float64
			for _, m := range mf.GetMetric() {
				total += valueOf(m)
			}
			return total
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func valueOf(m *dto.Metric) float64 { return m.GetCounter().GetValue() }

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
