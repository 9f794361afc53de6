package publish

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
)

// Rotate replaces the signing key with overlap. It publishes a key set,
// signed by the current key (which PDPs trust), listing the current key
// until now+overlap and next from now on; then it signs every later bundle
// with next. PDPs that learned the set accept bundles from either key
// during the overlap, so bundles already in flight stay valid.
func (p *Publisher) Rotate(ctx context.Context, next *bundle.SigningKey, overlap time.Duration) (*bundle.SignedKeySet, error) {
	if next == nil {
		return nil, errors.New("publish: nil next key")
	}
	if overlap <= 0 {
		return nil, fmt.Errorf("publish: overlap %s must be positive", overlap)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.now()
	retiring := p.key.PublicKey()
	retiring.NotAfter = now.Add(overlap)
	ks, err := bundle.SignKeySet(bundle.KeySet{
		Version:  p.keySetVersion + 1,
		IssuedAt: now,
		Keys:     []bundle.PublicKey{retiring, next.PublicKey()},
	}, p.key)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := p.publishKeySetLocked(ctx, ks); err != nil {
		return nil, err
	}
	p.log.Info("signing key rotated", "old", p.key.KeyID(), "new", next.KeyID(), "overlap", overlap, "key_set_version", ks.KeySet().Version)
	p.key = next
	return ks, nil
}

// PublishKeySet publishes a key set signed elsewhere (an offline key),
// which must be newer than the last one published.
func (p *Publisher) PublishKeySet(ctx context.Context, ks *bundle.SignedKeySet) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.publishKeySetLocked(ctx, ks)
}

func (p *Publisher) publishKeySetLocked(ctx context.Context, ks *bundle.SignedKeySet) error {
	data, err := ks.MarshalBinary()
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	version := ks.KeySet().Version
	subject := p.subjects.Keys()
	lastSeq, lastVersion, err := p.last(ctx, subject)
	if err != nil {
		return err
	}
	if lastVersion >= version {
		return fmt.Errorf("publish: %w: key set version %d is not newer than the published version %d", bundle.ErrStale, version, lastVersion)
	}
	msg := nats.NewMsg(subject)
	msg.Header.Set(bundlesource.HeaderKind, bundlesource.KindKeySet)
	msg.Header.Set(bundlesource.HeaderRevision, strconv.FormatUint(version, 10))
	msg.Data = data
	if _, err := p.js.PublishMsg(ctx, msg, jetstream.WithExpectLastSequencePerSubject(lastSeq)); err != nil {
		return fmt.Errorf("publish: key set version %d: %w", version, err)
	}
	p.keySetVersion = version
	return nil
}

// lastKeySet returns the key set last published, nil when none.
func (p *Publisher) lastKeySet(ctx context.Context) (*bundle.SignedKeySet, error) {
	st, err := p.stream(ctx)
	if err != nil {
		return nil, err
	}
	msg, err := st.GetLastMsgForSubject(ctx, p.subjects.Keys())
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("publish: reading the key set: %w", err)
	}
	ks, err := bundle.ParseKeySet(msg.Data)
	if err != nil {
		return nil, fmt.Errorf("publish: the published key set: %w", err)
	}
	return ks, nil
}
