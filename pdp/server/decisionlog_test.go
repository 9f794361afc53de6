package server_test

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
	"github.com/verdict-authz/verdict/pdp/server"
)

type recordedLog struct {
	mu   sync.Mutex
	recs []decisionlog.Record
}

func (l *recordedLog) Log(_ context.Context, r decisionlog.Record) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r)
}

func TestDecisionLogRecordsEveryDecision(t *testing.T) {
	log := &recordedLog{}
	r := start(t, server.WithDecisionLog(log, "records"))
	got := post(t, r.base+server.PathEvaluation, obj{"subject": subject("carol"), "action": action("write"), "resource": resource("record-2")})
	if got.status != http.StatusOK {
		t.Fatalf("status %d: %s", got.status, got.raw)
	}
	bad := post(t, r.base+server.PathEvaluation, obj{"subject": "not an object"})
	if bad.status == http.StatusOK {
		t.Fatalf("malformed request accepted: %s", bad.raw)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.recs) != 1 {
		t.Fatalf("%d records, want 1 (refused requests are not decisions)", len(log.recs))
	}
	rec := log.recs[0]
	if rec.Service != "records" || rec.DecisionID == "" || rec.Effect != pdp.EffectPermit || rec.EntryPoint != "remote" || rec.Time.IsZero() {
		t.Fatalf("record %+v", rec)
	}
	if len(rec.Request) == 0 || len(rec.PIPValues) == 0 {
		t.Fatalf("record lacks the request or the PIP values that supplied carol's role: %+v", rec)
	}
}
