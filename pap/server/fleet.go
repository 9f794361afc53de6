package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
)

// missedHeartbeats is how many heartbeat intervals may pass without one
// before a PDP counts as gone (DESIGN.md contract 6).
const missedHeartbeats = 3

// Fleet is the PAP's view of the PDPs: the latest heartbeat of every
// instance of every service. A PDP is live while its heartbeats arrive and
// gone after three missed ones.
type Fleet struct {
	now func() time.Time
	log *slog.Logger
	sub *nats.Subscription

	mu       sync.Mutex
	services map[string]map[string]seen // service → instance → last heartbeat
	changed  map[string]chan struct{}   // service → closed at its next change
}

// seen is a heartbeat and when it arrived.
type seen struct {
	hb bundlesource.Heartbeat
	at time.Time
}

// A FleetOption configures NewFleet.
type FleetOption interface {
	applyFleet(*Fleet)
}

type fleetOptionFunc func(*Fleet)

func (f fleetOptionFunc) applyFleet(fl *Fleet) { f(fl) }

// WithFleetClock sets the clock that decides liveness (default time.Now).
func WithFleetClock(now func() time.Time) FleetOption {
	return fleetOptionFunc(func(f *Fleet) { f.now = now })
}

// WithFleetLogger sets the logger (default: discard).
func WithFleetLogger(l *slog.Logger) FleetOption {
	return fleetOptionFunc(func(f *Fleet) { f.log = l })
}

// NewFleet subscribes to every PDP heartbeat under subjects. Close it
// when the PAP stops.
func NewFleet(nc *nats.Conn, subjects bundlesource.Subjects, opts ...FleetOption) (*Fleet, error) {
	if nc == nil {
		return nil, errors.New("server: nil NATS connection for the fleet")
	}
	f := &Fleet{
		now:      time.Now,
		log:      slog.New(slog.DiscardHandler),
		services: make(map[string]map[string]seen),
		changed:  make(map[string]chan struct{}),
	}
	for _, o := range opts {
		if o != nil {
			o.applyFleet(f)
		}
	}
	sub, err := nc.Subscribe(subjects.AllStatus(), f.receive)
	if err != nil {
		return nil, fmt.Errorf("server: subscribing to heartbeats: %w", err)
	}
	f.sub = sub
	return f, nil
}

// Close stops following heartbeats. It is idempotent.
func (f *Fleet) Close() error {
	if f.sub == nil {
		return nil
	}
	if err := f.sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrBadSubscription) && !errors.Is(err, nats.ErrConnectionClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// receive records one heartbeat message; malformed ones are ignored
// (anyone on the bus can publish, and they only ever affect the view).
func (f *Fleet) receive(m *nats.Msg) {
	var hb bundlesource.Heartbeat
	if err := json.Unmarshal(m.Data, &hb); err != nil {
		f.log.Debug("malformed heartbeat", "subject", m.Subject, "err", err)
		return
	}
	parts := strings.Split(m.Subject, ".")
	if len(parts) < 2 || parts[len(parts)-2] != hb.Service || parts[len(parts)-1] != hb.Instance ||
		bundle.ValidateServiceName(hb.Service) != nil {
		f.log.Debug("heartbeat does not match its subject", "subject", m.Subject)
		return
	}
	f.observe(hb)
}

// observe records hb as received now.
func (f *Fleet) observe(hb bundlesource.Heartbeat) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inst := f.services[hb.Service]
	if inst == nil {
		inst = make(map[string]seen)
		f.services[hb.Service] = inst
	}
	if hb.Stopping {
		delete(inst, hb.Instance)
	} else {
		inst[hb.Instance] = seen{hb: hb, at: f.now()}
	}
	if ch, ok := f.changed[hb.Service]; ok {
		close(ch)
		delete(f.changed, hb.Service)
	}
}

// Instance is one live PDP as its last heartbeat describes it.
type Instance struct {
	bundlesource.Heartbeat
	// LastSeen is when the PAP received the heartbeat.
	LastSeen time.Time
}

// Live returns the live PDPs of service, sorted by instance id, and
// forgets those gone.
func (f *Fleet) Live(service string) []Instance {
	if f == nil {
		return nil
	}
	now := f.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []Instance
	for id, s := range f.services[service] {
		if now.Sub(s.at) >= missedHeartbeats*s.hb.Interval() {
			delete(f.services[service], id)
			continue
		}
		out = append(out, Instance{Heartbeat: s.hb, LastSeen: s.at})
	}
	slices.SortFunc(out, func(a, b Instance) int { return strings.Compare(a.Instance, b.Instance) })
	return out
}

// Changed returns a channel closed at the next heartbeat of service, so a
// rollout watch wakes on news instead of polling.
func (f *Fleet) Changed(service string) <-chan struct{} {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ch, ok := f.changed[service]
	if !ok {
		ch = make(chan struct{})
		f.changed[service] = ch
	}
	return ch
}
