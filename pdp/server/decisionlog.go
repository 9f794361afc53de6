package server

import (
	"context"
	"time"

	"github.com/verdict-authz/verdict/pdp"
	"github.com/verdict-authz/verdict/pdp/decisionlog"
)

// logDecision hands the record of one decision to the configured
// decision log; the record outlives the request, so it keeps the
// request's values but not its cancellation.
func (s *Server) logDecision(ctx context.Context, start time.Time, req *pdp.Request, d *pdp.Decision) {
	service := s.cfg.logService
	if service == "" {
		if p := s.engine.Active(); p != nil {
			service = p.Service
		}
	}
	rec := decisionlog.FromDecision(service, start, req, d)
	rec.EntryPoint = "remote"
	if rec.Latency == 0 {
		rec.Latency = time.Since(start)
	}
	s.cfg.decisionLog.Log(context.WithoutCancel(ctx), rec)
}
