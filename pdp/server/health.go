package server

import (
	"context"
	"time"

	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/verdict-authz/verdict/pdp"
)

// Service names reported by gRPC health checking, besides "" (the server
// as a whole).
var healthServices = []string{"", "verdict.v1.DecisionService", "envoy.service.auth.v3.Authorization"}

// healthState reports SERVING once the engine has an active policy: a PDP
// without a policy must not receive traffic (it would deny everything).
type healthState struct {
	engine *pdp.Engine
	grpc   *health.Server
}

func newHealthState(engine *pdp.Engine) *healthState {
	h := &healthState{engine: engine, grpc: health.NewServer()}
	h.update()
	return h
}

// ready reports whether decisions can be made.
func (h *healthState) ready() bool { return h.engine.Active() != nil }

func (h *healthState) update() {
	st := healthpb.HealthCheckResponse_NOT_SERVING
	if h.ready() {
		st = healthpb.HealthCheckResponse_SERVING
	}
	for _, svc := range healthServices {
		h.grpc.SetServingStatus(svc, st)
	}
}

// watch follows the engine until ctx ends: a policy may be activated after
// the server starts (a bundle arriving from NATS).
func (h *healthState) watch(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.update()
		}
	}
}

// shutdown reports NOT_SERVING for good, so that load balancers drain the
// PDP before its listeners close.
func (h *healthState) shutdown() { h.grpc.Shutdown() }
