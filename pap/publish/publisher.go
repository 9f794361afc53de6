package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/verdict-authz/verdict/pap/store"
	"github.com/verdict-authz/verdict/pdp/bundle"
	"github.com/verdict-authz/verdict/pdp/bundlesource"
)

// maxOrderingAttempts bounds how often Publish re-reads the subject when
// another publisher wrote to it in between.
const maxOrderingAttempts = 5

// Publisher signs and publishes bundles. It is safe for concurrent use;
// publishes are serialised so that a subject only moves forward.
type Publisher struct {
	cfg      config
	nc       *nats.Conn
	js       jetstream.JetStream
	subjects bundlesource.Subjects
	metrics  *metrics
	log      *slog.Logger

	mu            sync.Mutex // serialises publishes and key changes
	key           *bundle.SigningKey
	keySetVersion uint64
	obs           jetstream.ObjectStore            // the shared bucket
	buckets       map[string]jetstream.ObjectStore // per service, WithServiceBuckets
	pending       *bundle.SigningKey               // announced by Announce, not switched to yet
}

// Result says what Publish did.
type Result struct {
	// Service and Revision identify what was published.
	Service  string
	Revision uint64
	// Digest is the bundle's content digest.
	Digest string
	// Sequence is the stream sequence of the message; 0 when Skipped.
	Sequence uint64
	// Object is the Object Store object holding the bundle, when it was
	// too large for one message.
	Object string
	// Skipped is true when the subject already held this revision or a
	// newer one: nothing was published, which is what a retry after a lost
	// acknowledgement or a late publish of a superseded revision needs.
	Skipped bool
}

// New returns a publisher signing with key, after making sure the stream
// and the Object Store bucket exist with the configured history. It reads
// the current key set version from the stream, so that a restarted PAP
// continues the version sequence.
func New(ctx context.Context, nc *nats.Conn, key *bundle.SigningKey, opts ...Option) (*Publisher, error) {
	cfg := config{stream: bundlesource.DefaultStream, bucket: DefaultBucket, history: DefaultHistory, now: time.Now}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	switch {
	case nc == nil:
		return nil, errors.New("publish: nil NATS connection")
	case key == nil:
		return nil, errors.New("publish: nil signing key")
	case cfg.history < 1:
		return nil, fmt.Errorf("publish: history %d must be at least 1", cfg.history)
	}
	if err := bundlesource.ValidatePrefix(cfg.prefix); err != nil {
		return nil, err
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	m, err := newMetrics(cfg.registerer)
	if err != nil {
		return nil, err
	}
	p := &Publisher{
		cfg:      cfg,
		nc:       nc,
		js:       js,
		subjects: bundlesource.Subjects{Prefix: cfg.prefix},
		metrics:  m,
		log:      cfg.logger,
		key:      key,
	}
	if err := p.ensure(ctx); err != nil {
		return nil, err
	}
	last, err := p.lastKeySet(ctx)
	if err != nil {
		return nil, err
	}
	if last != nil {
		p.keySetVersion = last.KeySet().Version
	}
	return p, nil
}

// ensure creates or updates the stream and the bucket.
func (p *Publisher) ensure(ctx context.Context) error {
	_, err := p.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:              p.cfg.stream,
		Description:       "Verdict policy bundles (one subject per service) and bundle-signing key sets",
		Subjects:          []string{p.subjects.Bundles(), p.subjects.Keys()},
		MaxMsgsPerSubject: p.cfg.history,
		Discard:           jetstream.DiscardOld,
		Storage:           jetstream.FileStorage,
		Duplicates:        2 * time.Minute,
		AllowDirect:       true,
	})
	if err != nil {
		return fmt.Errorf("publish: stream %s: %w", p.cfg.stream, err)
	}
	if p.cfg.perService {
		p.buckets = make(map[string]jetstream.ObjectStore)
		return nil
	}
	obs, err := p.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      p.cfg.bucket,
		Description: "Verdict policy bundles too large for one NATS message",
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("publish: object store %s: %w", p.cfg.bucket, err)
	}
	p.obs = obs
	return nil
}

// objectStore returns the bucket of service's large bundles and its name,
// creating a per-service bucket on first use; p.mu is held.
func (p *Publisher) objectStore(ctx context.Context, service string) (jetstream.ObjectStore, string, error) {
	if !p.cfg.perService {
		return p.obs, p.cfg.bucket, nil
	}
	name := p.cfg.bucket + "-" + service
	if obs, ok := p.buckets[name]; ok {
		return obs, name, nil
	}
	obs, err := p.js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket:      name,
		Description: "Verdict policy bundles of service " + service + " too large for one NATS message",
		Storage:     jetstream.FileStorage,
	})
	if err != nil {
		return nil, "", fmt.Errorf("publish: object store %s: %w", name, err)
	}
	p.buckets[name] = obs
	return obs, name, nil
}

// Subjects returns the subjects this publisher writes, for components
// (the PAP's rollout view) that must read the matching ones.
func (p *Publisher) Subjects() bundlesource.Subjects { return p.subjects }

// KeyID returns the id of the key bundles are signed with now.
func (p *Publisher) KeyID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.key.KeyID()
}

// Publish signs the bundle of rev and publishes it on the service's
// subject, unless the subject already holds rev or a newer revision
// (Result.Skipped). It returns once JetStream has stored the message.
func (p *Publisher) Publish(ctx context.Context, rev store.Revision) (Result, error) {
	start := time.Now()
	res, err := p.publish(ctx, rev)
	switch {
	case err != nil:
		p.metrics.publishes.WithLabelValues("failed").Inc()
	case res.Skipped:
		p.metrics.publishes.WithLabelValues("skipped").Inc()
	default:
		p.metrics.publishes.WithLabelValues("published").Inc()
		p.metrics.duration.Observe(time.Since(start).Seconds())
	}
	return res, err
}

func (p *Publisher) publish(ctx context.Context, rev store.Revision) (Result, error) {
	unsigned, err := Build(rev)
	if err != nil {
		return Result{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	b, err := unsigned.Sign(p.key)
	if err != nil {
		return Result{}, fmt.Errorf("publish: signing: %w", err)
	}
	data, err := b.MarshalBinary()
	if err != nil {
		return Result{}, fmt.Errorf("publish: %w", err)
	}
	res := Result{Service: rev.Service, Revision: uint64(rev.Number), Digest: b.Digest()}
	subject := p.subjects.Bundle(rev.Service)
	msg := nats.NewMsg(subject)
	msg.Header.Set(bundlesource.HeaderRevision, strconv.FormatUint(res.Revision, 10))
	msg.Header.Set(bundlesource.HeaderDigest, res.Digest)
	msg.Data = data
	msg.Header.Set(bundlesource.HeaderKind, bundlesource.KindBundle)
	var obs jetstream.ObjectStore
	if len(data) > p.inlineLimit() {
		var bucket string
		if obs, bucket, err = p.objectStore(ctx, rev.Service); err != nil {
			return Result{}, err
		}
		res.Object = objectName(rev.Service, res.Revision)
		if _, err := obs.PutBytes(ctx, res.Object, data); err != nil {
			return Result{}, fmt.Errorf("publish: storing %s revision %d in object store %s: %w", rev.Service, rev.Number, bucket, err)
		}
		ptr, err := json.Marshal(bundlesource.Pointer{
			Service: rev.Service, Revision: res.Revision, Digest: res.Digest,
			Bucket: bucket, Object: res.Object, Size: int64(len(data)),
		})
		if err != nil {
			return Result{}, fmt.Errorf("publish: pointer: %w", err)
		}
		msg.Header.Set(bundlesource.HeaderKind, bundlesource.KindPointer)
		msg.Data = ptr
	}
	p.metrics.size.Observe(float64(len(data)))

	for attempt := 1; ; attempt++ {
		lastSeq, lastRev, err := p.last(ctx, subject)
		if err != nil {
			return Result{}, err
		}
		if lastRev >= res.Revision {
			res.Skipped = true
			p.log.Info("subject already holds this or a newer revision; not publishing",
				"service", rev.Service, "revision", res.Revision, "subject_revision", lastRev)
			if res.Object != "" && lastRev > res.Revision {
				_ = obs.Delete(ctx, res.Object)
				res.Object = ""
			}
			return res, nil
		}
		ack, err := p.js.PublishMsg(ctx, msg,
			jetstream.WithExpectLastSequencePerSubject(lastSeq),
			jetstream.WithMsgID(fmt.Sprintf("%s/%d/%s", rev.Service, res.Revision, res.Digest)))
		if isWrongLastSequence(err) && attempt < maxOrderingAttempts {
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("publish: %s revision %d on %s: %w", rev.Service, rev.Number, subject, err)
		}
		res.Sequence = ack.Sequence
		break
	}
	p.log.Info("bundle published", "service", rev.Service, "revision", res.Revision, "digest", res.Digest,
		"bytes", len(data), "object", res.Object, "seq", res.Sequence)
	if res.Object != "" {
		p.pruneObjects(ctx, obs, rev.Service, res.Revision)
	}
	return res, nil
}

// inlineLimit is the largest archive published in the message itself.
func (p *Publisher) inlineLimit() int {
	if p.cfg.inlineLimit > 0 {
		return p.cfg.inlineLimit
	}
	return max(int(p.nc.MaxPayload())-4096, 1024)
}

// objectName names a revision's object in the bucket.
func objectName(service string, rev uint64) string {
	return service + "/" + strconv.FormatUint(rev, 10)
}

// pruneObjects deletes the service's objects for revisions that have left
// the stream's history: no message points to them any more.
func (p *Publisher) pruneObjects(ctx context.Context, obs jetstream.ObjectStore, service string, rev uint64) {
	if rev <= uint64(p.cfg.history) {
		return
	}
	oldest := rev - uint64(p.cfg.history) // revisions ≤ oldest are gone
	infos, err := obs.List(ctx)
	if err != nil {
		if !errors.Is(err, jetstream.ErrNoObjectsFound) {
			p.log.Warn("listing bundle objects", "err", err)
		}
		return
	}
	for _, info := range infos {
		svc, num, ok := strings.Cut(info.Name, "/")
		if !ok || svc != service {
			continue
		}
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil || n > oldest {
			continue
		}
		if err := obs.Delete(ctx, info.Name); err != nil {
			p.log.Warn("deleting bundle object", "object", info.Name, "err", err)
		}
	}
}

// last returns the stream sequence and revision of the subject's last
// message, zeros when it has none.
func (p *Publisher) last(ctx context.Context, subject string) (seq, rev uint64, err error) {
	st, err := p.stream(ctx)
	if err != nil {
		return 0, 0, err
	}
	msg, err := st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("publish: reading the last message of %s: %w", subject, err)
	}
	rev, _ = strconv.ParseUint(msg.Header.Get(bundlesource.HeaderRevision), 10, 64)
	return msg.Sequence, rev, nil
}

// stream returns the stream, recreating it when it has disappeared (a
// server restarted without its store, an operator's mistake).
func (p *Publisher) stream(ctx context.Context) (jetstream.Stream, error) {
	st, err := p.js.Stream(ctx, p.cfg.stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		p.log.Warn("stream missing; recreating it", "stream", p.cfg.stream)
		if err := p.ensure(ctx); err != nil {
			return nil, err
		}
		st, err = p.js.Stream(ctx, p.cfg.stream)
	}
	if err != nil {
		return nil, fmt.Errorf("publish: stream %s: %w", p.cfg.stream, err)
	}
	return st, nil
}

// LastPublished returns the revision the service's subject holds last (0
// when none), which Reconcile compares with the store.
func (p *Publisher) LastPublished(ctx context.Context, service string) (uint64, error) {
	if err := bundle.ValidateServiceName(service); err != nil {
		return 0, err
	}
	_, rev, err := p.last(ctx, p.subjects.Bundle(service))
	return rev, err
}

// isWrongLastSequence reports JetStream's refusal of a conditional publish
// because the subject moved.
func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
