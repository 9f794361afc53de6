package bundlesource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pdp/bundle"
)

// enqueue hands a message to the applier without blocking the NATS
// client's delivery goroutine.
func (s *Source) enqueue(ev event) {
	s.qmu.Lock()
	s.queue = append(s.queue, ev)
	s.qmu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (s *Source) dequeue() (event, bool) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if len(s.queue) == 0 {
		return event{}, false
	}
	ev := s.queue[0]
	s.queue[0] = event{}
	s.queue = s.queue[1:]
	return ev, true
}

// applyLoop verifies and activates messages one at a time, in the order
// they were received: one goroutine owns activation, so revisions can never
// be applied concurrently or out of order.
func (s *Source) applyLoop() {
	defer s.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.notify:
		case <-timer.C:
		}
		for {
			ev, ok := s.dequeue()
			if !ok {
				break
			}
			if ev.kind != KindKeySet {
				s.retry = nil // a newer message of the subject supersedes a pending fetch
			}
			s.handle(ev)
			if s.ctx.Err() != nil {
				return
			}
		}
		if s.retry != nil {
			if wait := time.Until(s.retryAt); wait > 0 {
				timer.Reset(wait)
				continue
			}
			ev := *s.retry
			s.retry = nil
			s.handle(ev)
			if s.retry != nil {
				timer.Reset(time.Until(s.retryAt))
			}
		}
	}
}

// handle processes one message and records the outcome.
func (s *Source) handle(ev event) {
	var err error
	switch ev.kind {
	case KindKeySet:
		err = s.applyKeySet(ev.data)
	case KindPointer:
		err = s.applyPointer(ev)
	case KindBundle, "":
		err = s.applyArchive(ev.data, nil)
	default:
		err = fmt.Errorf("%w: message of unknown kind %q on the bundle subject", bundle.ErrFormat, ev.kind)
	}
	if err == nil || s.ctx.Err() != nil {
		return
	}
	s.metrics.bundles.WithLabelValues(resultRefused).Inc()
	s.log.Warn("bundle refused; the active one stays", "active_revision", s.Revision(), "err", err)
	s.setError(err)
	s.publishHeartbeat(false)
}

// errDuplicate marks a redelivery of the active bundle, which is not an
// error.
var errDuplicate = errors.New("duplicate of the active bundle")

// applyArchive verifies an archive and activates it. want, for a bundle
// reached through a pointer, is what the pointer promised.
func (s *Source) applyArchive(data []byte, want *Pointer) error {
	start := time.Now()
	b, err := s.open(data)
	if errors.Is(err, bundle.ErrUnknownKey) && s.refreshKeySet() {
		b, err = s.open(data)
	}
	if errors.Is(err, errDuplicate) {
		s.metrics.bundles.WithLabelValues(resultDuplicate).Inc()
		return nil
	}
	if errors.Is(err, bundle.ErrUnknownKey) {
		// A key set naming the key may still be on its way.
		s.pendingKey = data
	}
	if err != nil {
		return err
	}
	m := b.Manifest()
	if want != nil && (m.Revision != want.Revision || b.Digest() != want.Digest) {
		return fmt.Errorf("%w: pointer promised revision %d (%s), object holds revision %d (%s)",
			bundle.ErrDigest, want.Revision, want.Digest, m.Revision, b.Digest())
	}
	if v, ok := s.cfg.observer.(VerifyObserver); ok {
		v.Verified(m)
	}
	if err := s.activate(b, start); err != nil {
		return fmt.Errorf("activating %s revision %d: %w", m.Service, m.Revision, err)
	}
	s.log.Info("bundle active", "revision", m.Revision, "digest", b.Digest(), "took", time.Since(start))
	s.persist(b)
	s.publishHeartbeat(false)
	return nil
}

// open verifies data against the trust store, the service and the active
// revision, telling a redelivery of the active bundle (errDuplicate) from a
// replayed older one (bundle.ErrStale).
func (s *Source) open(data []byte) (*bundle.Bundle, error) {
	cur := s.snapshot()
	var b *bundle.Bundle
	var err error
	if g := s.cfg.group; g != nil {
		var e *groupEntry
		if e, err = g.read(data, s.maxSize()); err == nil {
			b, err = e.b, e.verify(s.cfg.trust, s.cfg.service, cur.revision)
		}
	} else if b, err = bundle.Read(bytes.NewReader(data), bundle.WithMaxSize(s.cfg.maxSize)); err == nil {
		err = b.Verify(s.cfg.trust, bundle.WithService(s.cfg.service), bundle.WithActiveRevision(cur.revision))
	}
	if errors.Is(err, bundle.ErrStale) && b != nil && b.Manifest().Revision == cur.revision && b.Digest() == cur.digest {
		return nil, errDuplicate
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// applyPointer fetches the bundle a pointer names from the Object Store.
// A fetch that fails for a transient reason (NATS unavailable) is retried
// until it succeeds or a newer message supersedes it.
func (s *Source) applyPointer(ev event) error {
	p, err := ParsePointer(ev.data)
	if err != nil {
		return err
	}
	if p.Service != s.cfg.service {
		return fmt.Errorf("%w: pointer is for service %q, not %q", bundle.ErrService, p.Service, s.cfg.service)
	}
	cur := s.snapshot()
	if p.Revision <= cur.revision {
		if p.Revision == cur.revision && p.Digest == cur.digest {
			s.metrics.bundles.WithLabelValues(resultDuplicate).Inc()
			return nil
		}
		return fmt.Errorf("%w: pointer to %s revision %d, not newer than active revision %d", bundle.ErrStale, p.Service, p.Revision, cur.revision)
	}
	if max := s.maxSize(); p.Size > max {
		return fmt.Errorf("%w: pointed-to bundle is %d bytes, limit %d", bundle.ErrTooLarge, p.Size, max)
	}
	data, err := s.fetch(p)
	if err != nil {
		if errors.Is(err, jetstream.ErrObjectNotFound) || errors.Is(err, jetstream.ErrBucketNotFound) {
			return fmt.Errorf("revision %d: %w", p.Revision, err)
		}
		s.scheduleRetry(ev)
		return fmt.Errorf("revision %d: fetching %s/%s (will retry): %w", p.Revision, p.Bucket, p.Object, err)
	}
	s.retryWait = 0
	return s.applyArchive(data, &p)
}

func (s *Source) maxSize() int64 {
	if s.cfg.maxSize > 0 {
		return s.cfg.maxSize
	}
	return bundle.DefaultMaxSize
}

// fetch reads a pointed-to object, bounded in time and size.
func (s *Source) fetch(p Pointer) ([]byte, error) {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	obs, ok := s.buckets[p.Bucket]
	if !ok {
		var err error
		if obs, err = s.js.ObjectStore(ctx, p.Bucket); err != nil {
			return nil, err
		}
		s.buckets[p.Bucket] = obs
	}
	info, err := obs.GetInfo(ctx, p.Object)
	if err != nil {
		return nil, err
	}
	if int64(info.Size) > s.maxSize() {
		return nil, fmt.Errorf("%w: object is %d bytes, limit %d", bundle.ErrTooLarge, info.Size, s.maxSize())
	}
	return obs.GetBytes(ctx, p.Object)
}

// scheduleRetry arms a retry of ev with exponential backoff.
func (s *Source) scheduleRetry(ev event) {
	s.retryWait = min(max(2*s.retryWait, 100*time.Millisecond), s.cfg.retryMax)
	s.retry = &ev
	s.retryAt = time.Now().Add(s.retryWait)
}

// applyKeySet applies a key set from the keys subject; a bundle waiting for
// its signer's key is retried afterwards.
func (s *Source) applyKeySet(data []byte) error {
	ks, err := bundle.ParseKeySet(data)
	if err != nil {
		return fmt.Errorf("key set: %w", err)
	}
	if err := s.cfg.trust.Apply(ks); err != nil {
		if errors.Is(err, bundle.ErrStale) && sameKeySet(s.cfg.trust.KeySet(), ks) {
			return nil
		}
		return err
	}
	s.log.Info("key set applied", "version", ks.KeySet().Version, "signer", ks.SignerKeyID())
	s.persistKeySet()
	// Tell the PAP at once: it waits for PDPs to learn a new key before
	// signing with it.
	s.publishHeartbeat(false)
	if pending := s.pendingKey; pending != nil {
		s.pendingKey = nil
		return s.applyArchive(pending, nil)
	}
	return nil
}

// refreshKeySet fetches the latest key set directly, for a bundle signed by
// a key this PDP has not learned yet (the key set message may not have
// been delivered yet). It reports whether a newer key set was applied.
func (s *Source) refreshKeySet() bool {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	st, err := s.js.Stream(ctx, s.cfg.stream)
	if err != nil {
		return false
	}
	msg, err := st.GetLastMsgForSubject(ctx, s.cfg.subjects.Keys())
	if err != nil {
		return false
	}
	ks, err := bundle.ParseKeySet(msg.Data)
	if err != nil || s.cfg.trust.Apply(ks) != nil {
		return false
	}
	s.log.Info("key set fetched and applied", "version", ks.KeySet().Version)
	s.persistKeySet()
	s.publishHeartbeat(false)
	return true
}

// sameKeySet reports whether two signed key sets are the same document.
func sameKeySet(a, b *bundle.SignedKeySet) bool {
	if a == nil || b == nil {
		return false
	}
	x, err1 := a.MarshalBinary()
	y, err2 := b.MarshalBinary()
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// persist writes the activated bundle as last-known-good. A failure is
// logged: the PDP keeps deciding, it only loses its restart fallback.
func (s *Source) persist(b *bundle.Bundle) {
	if s.cfg.cacheDir == "" {
		return
	}
	if _, err := b.WriteFile(s.cfg.cacheDir); err != nil {
		s.log.Error("persisting last-known-good bundle", "err", err)
	}
}

// persistKeySet writes the trust store's key set next to the bundle, so the
// cached bundle still verifies after a restart.
func (s *Source) persistKeySet() {
	if s.cfg.cacheDir == "" {
		return
	}
	if ks := s.cfg.trust.KeySet(); ks != nil {
		if _, err := ks.WriteFile(s.cfg.cacheDir); err != nil {
			s.log.Error("persisting key set", "err", err)
		}
	}
}
