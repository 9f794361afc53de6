package jsonfile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/verdict-authz/verdict/pip"
)

// Provider serves the attributes held in a JSON file. It is safe for
// concurrent use and holds no resources beyond memory, so it has nothing
// to close.
type Provider struct {
	path string
	key  pip.AttributeRef
	cfg  config

	snap atomic.Pointer[snapshot]
	// lastCheck is when the file was last checked for changes, in Unix
	// nanoseconds of cfg.clock.
	lastCheck atomic.Int64
	reloadMu  sync.Mutex
}

// snapshot is the content in use and the file version it came from.
type snapshot struct {
	*content
	info os.FileInfo
	desc pip.Description
}

// New loads the file at path and serves its entities, looked up by the
// value of key. The file must exist and parse: a PIP that starts empty
// would answer "no such user" for everyone.
func New(path string, key pip.AttributeRef, opts ...Option) (*Provider, error) {
	if key.Category == "" || key.ID == "" {
		return nil, fmt.Errorf("jsonfile %s: key attribute needs a category and an id", path)
	}
	cfg := config{interval: DefaultReloadInterval, clock: systemClock{}, logger: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.category == "" {
		cfg.category = key.Category
	}
	p := &Provider{path: path, key: key, cfg: cfg}
	if err := p.Reload(); err != nil {
		return nil, err
	}
	return p, nil
}

// Reload reads the file now, whether or not it changed (for example on
// SIGHUP). On failure the content in use is kept and the error returned.
func (p *Provider) Reload() error {
	p.reloadMu.Lock()
	defer p.reloadMu.Unlock()
	p.lastCheck.Store(p.cfg.clock.Now().UnixNano())
	return p.load()
}

// load reads and parses the file; p.reloadMu is held.
func (p *Provider) load() error {
	f, err := os.Open(p.path)
	if err != nil {
		return fmt.Errorf("jsonfile: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("jsonfile: %w", err)
	}
	c, err := parse(f)
	if err != nil {
		return fmt.Errorf("jsonfile %s: %w", p.path, err)
	}
	if len(c.skipped) > 0 {
		p.cfg.logger.Warn("jsonfile: values without an attribute type skipped (objects, out-of-range numbers)",
			"file", p.path, "count", len(c.skipped), "first", c.skipped[0])
	}
	p.snap.Store(&snapshot{
		content: c,
		info:    info,
		desc:    pip.Description{Category: p.cfg.category, Key: p.key, Attributes: c.attributes},
	})
	p.cfg.logger.Debug("jsonfile loaded", "file", p.path, "entities", len(c.keys))
	return nil
}

// maybeReload reloads the file if the reload interval has passed since the
// last check and the file changed. Only one caller checks at a time; the
// others carry on with the current content.
func (p *Provider) maybeReload() {
	if p.cfg.interval <= 0 {
		return
	}
	now := p.cfg.clock.Now().UnixNano()
	if now-p.lastCheck.Load() < int64(p.cfg.interval) {
		return
	}
	if !p.reloadMu.TryLock() {
		return
	}
	defer p.reloadMu.Unlock()
	if now-p.lastCheck.Load() < int64(p.cfg.interval) {
		return // another caller just checked
	}
	p.lastCheck.Store(now)
	info, err := os.Stat(p.path)
	if err != nil {
		p.cfg.logger.Warn("jsonfile: cannot check file, keeping the last content", "file", p.path, "err", err)
		return
	}
	old := p.snap.Load().info
	if os.SameFile(old, info) && info.ModTime().Equal(old.ModTime()) && info.Size() == old.Size() {
		return
	}
	if err := p.load(); err != nil {
		p.cfg.logger.Error("jsonfile: reload failed, keeping the last content", "file", p.path, "err", err)
		return
	}
	p.cfg.logger.Info("jsonfile reloaded", "file", p.path, "entities", len(p.snap.Load().keys))
}

// Fetch returns the attributes of the entity whose key is q.Key: the whole
// entity, whatever q.Attributes asks (callers look up the ones they want;
// this keeps the lookup free of allocations). An unknown key is an empty
// answer. The Values are shared and must not be modified.
func (p *Provider) Fetch(_ context.Context, q pip.Query) (pip.Values, error) {
	if q.Category != p.cfg.category {
		return nil, fmt.Errorf("jsonfile %s: %w: %q (serves %q)", p.path, pip.ErrWrongCategory, q.Category, p.cfg.category)
	}
	p.maybeReload()
	return p.snap.Load().entities[q.Key], nil
}

// List returns the entities in ascending key order, one page at a time,
// for the search APIs.
func (p *Provider) List(ctx context.Context, q pip.ListQuery) (pip.Page, error) {
	if q.Category != p.cfg.category {
		return pip.Page{}, fmt.Errorf("jsonfile %s: %w: %q (serves %q)", p.path, pip.ErrWrongCategory, q.Category, p.cfg.category)
	}
	if err := ctx.Err(); err != nil {
		return pip.Page{}, fmt.Errorf("jsonfile %s: %w", p.path, err)
	}
	p.maybeReload()
	s := p.snap.Load()
	start := 0
	if q.After != "" {
		start = sort.SearchStrings(s.keys, q.After)
		if start < len(s.keys) && s.keys[start] == q.After {
			start++
		}
	}
	end := len(s.keys)
	if q.Limit > 0 && start+q.Limit < end {
		end = start + q.Limit
	}
	page := pip.Page{Entities: make([]pip.Entity, 0, end-start)}
	for _, k := range s.keys[start:end] {
		page.Entities = append(page.Entities, pip.Entity{Key: k, Values: pick(s.entities[k], q.Attributes)})
	}
	if end < len(s.keys) && end > start {
		page.Next = s.keys[end-1]
	}
	return page, nil
}

// pick returns the attributes of vals named in ids, or all of them when ids
// is empty.
func pick(vals pip.Values, ids []string) pip.Values {
	if len(ids) == 0 {
		return vals
	}
	out := make(pip.Values, len(ids))
	for _, id := range ids {
		if bag := vals[id]; len(bag) > 0 {
			out[id] = bag
		}
	}
	return out
}

// Describe returns the key attribute, the category supplied and the
// attribute ids present in the file now. The Attributes slice is shared
// and must not be modified.
func (p *Provider) Describe() pip.Description {
	p.maybeReload()
	return p.snap.Load().desc
}

// Len returns the number of entities loaded, for health pages and logs.
func (p *Provider) Len() int {
	return len(p.snap.Load().keys)
}
