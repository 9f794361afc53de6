package publish

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
)

// Rotate replaces the signing key with overlap in one step: Announce,
// then SwitchKey. Prefer the two steps with a wait in between (as the
// PAP's RotateSigningKey does), so that PDPs learn the new key before the
// first bundle signed with it reaches them.
func (p *Publisher) Rotate(ctx context.Context, next *bundle.SigningKey, overlap time.Duration) (*bundle.SignedKeySet, error) {
	ks, err := p.Announce(ctx, next, overlap)
	if err != nil {
		return nil, err
	}
	if err := p.SwitchKey(next); err != nil {
		return nil, err
	}
	return ks, nil
}

// Announce publishes a key set, signed by the current key (which PDPs
// trust), listing the current key until now+overlap and next from now on.
// Bundles stay signed with the current key until SwitchKey: PDPs that
// learned the set accept either key during the overlap, and the old key is
// retired when its window closes.
func (p *Publisher) Announce(ctx context.Context, next *bundle.SigningKey, overlap time.Duration) (*bundle.SignedKeySet, error) {
	if next == nil {
		return nil, errors.New("publish: nil next key")
	}
	if overlap <= 0 {
		return nil, fmt.Errorf("publish: overlap %s must be positive", overlap)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if next.KeyID() == p.key.KeyID() {
		return nil, fmt.Errorf("publish: key %s already signs bundles", next.KeyID())
	}
	if p.pending != nil {
		return nil, fmt.Errorf("%w: key %s was announced and not switched to yet", ErrRotationInProgress, p.pending.KeyID())
	}
	// Continue after whatever set is on the subject, even one published
	// by another PAP or signed offline since this publisher started.
	_, lastVersion, err := p.last(ctx, p.subjects.Keys())
	if err != nil {
		return nil, err
	}
	now := p.cfg.now()
	retiring := p.key.PublicKey()
	retiring.NotAfter = now.Add(overlap)
	ks, err := bundle.SignKeySet(bundle.KeySet{
		Version:  max(p.keySetVersion, lastVersion) + 1,
		IssuedAt: now,
		Keys:     []bundle.PublicKey{retiring, next.PublicKey()},
	}, p.key)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := p.publishKeySetLocked(ctx, ks); err != nil {
		return nil, err
	}
	p.pending = next
	p.log.Info("signing key announced", "current", p.key.KeyID(), "next", next.KeyID(), "overlap", overlap, "key_set_version", ks.KeySet().Version)
	return ks, nil
}

// ErrNotAnnounced refuses to sign with a key that Announce did not
// announce last: PDPs would refuse its bundles.
var ErrNotAnnounced = errors.New("publish: key not announced")

// ErrRotationInProgress refuses a second announcement before the first
// one's SwitchKey: rotations happen one at a time.
var ErrRotationInProgress = errors.New("publish: a key rotation is in progress")

// SwitchKey signs every later bundle with next, which the key set last
// published by Announce must list. With WithKeyFile, next is written to
// the key file first (the old key is kept beside it).
func (p *Publisher) SwitchKey(next *bundle.SigningKey) error {
	if next == nil {
		return errors.New("publish: nil next key")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil || p.pending.KeyID() != next.KeyID() {
		return fmt.Errorf("%w: %s", ErrNotAnnounced, next.KeyID())
	}
	if p.cfg.keyFile != "" {
		if err := replaceKeyFile(p.cfg.keyFile, p.key, next); err != nil {
			return err
		}
	}
	p.log.Info("signing key rotated", "old", p.key.KeyID(), "new", next.KeyID())
	p.key = next
	p.pending = nil
	return nil
}

// replaceKeyFile writes next to path, keeping old as path.<old key id>.
func replaceKeyFile(path string, old, next *bundle.SigningKey) error {
	tmp := path + ".new"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("publish: %w", err)
	}
	if err := bundle.WritePrivateKeyFile(tmp, next); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if err := os.Link(path, path+"."+old.KeyID()); err != nil && !errors.Is(err, fs.ErrExist) && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("publish: keeping the old key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	return nil
}

// KeyStatus is what SigningKeys reports.
type KeyStatus struct {
	// Signing is the key bundles are signed with now.
	Signing bundle.PublicKey
	// KeySet is the key set last published, nil when none was.
	KeySet *bundle.SignedKeySet
}

// SigningKeys returns the signing key and the key set last published (read
// from the stream, so that one published by another PAP shows).
func (p *Publisher) SigningKeys(ctx context.Context) (KeyStatus, error) {
	ks, err := p.lastKeySet(ctx)
	if err != nil {
		return KeyStatus{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return KeyStatus{Signing: p.key.PublicKey(), KeySet: ks}, nil
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
