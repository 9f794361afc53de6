package ca

import (
	"context"
	"fmt"
	"log/slog"
	"math/big"
	"time"

	"github.com/verdict-authz/verdict/pki/spiffeid"
)

// Outcome says how an audited operation ended.
type Outcome string

// Outcomes.
const (
	OutcomeSuccess Outcome = "success"
	OutcomeDenied  Outcome = "denied"
	OutcomeFailed  Outcome = "failed"
)

// AuditEvent records one issuance, revocation or token operation, including
// refused and failed attempts.
type AuditEvent struct {
	Time    time.Time
	Action  Action
	Outcome Outcome
	Caller  spiffeid.ID
	Subject spiffeid.ID
	Profile Profile
	Serial  *big.Int
	// NotAfter is set for issuances.
	NotAfter time.Time
	// Reason is the RFC 5280 reason code for revocations.
	Reason int
	// Err is why the operation was denied or failed.
	Err error
}

// AuditSink receives audit events. Audit must not block issuance for long;
// durable sinks buffer and report their own failures.
type AuditSink interface {
	Audit(ctx context.Context, ev AuditEvent)
}

// SlogAudit is the default AuditSink: one structured log line per event.
func SlogAudit(l *slog.Logger) AuditSink { return slogAudit{l} }

type slogAudit struct{ l *slog.Logger }

func (s slogAudit) Audit(ctx context.Context, ev AuditEvent) {
	attrs := []slog.Attr{
		slog.String("action", string(ev.Action)),
		slog.String("outcome", string(ev.Outcome)),
		slog.Time("at", ev.Time),
	}
	if !ev.Caller.IsZero() {
		attrs = append(attrs, slog.String("caller", ev.Caller.String()))
	}
	if !ev.Subject.IsZero() {
		attrs = append(attrs, slog.String("subject", ev.Subject.String()))
	}
	if ev.Profile != "" {
		attrs = append(attrs, slog.String("profile", string(ev.Profile)))
	}
	if ev.Serial != nil {
		attrs = append(attrs, slog.String("serial", fmt.Sprintf("%x", ev.Serial)))
	}
	if !ev.NotAfter.IsZero() {
		attrs = append(attrs, slog.Time("not_after", ev.NotAfter))
	}
	if ev.Action == ActionRevoke {
		attrs = append(attrs, slog.String("reason", ReasonString(ev.Reason)))
	}
	level := slog.LevelInfo
	if ev.Err != nil {
		attrs = append(attrs, slog.String("error", ev.Err.Error()))
		level = slog.LevelWarn
	}
	s.l.LogAttrs(ctx, level, "ca audit", attrs...)
}
