package pip

import (
	"container/list"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Cache is a TTL cache in front of a provider, so that decisions that need
// the same attribute of the same entity do not each pay for a backend call.
//
// Entries are keyed by category, key and attribute id, so a query for
// several attributes is served partly from the cache and fetches only the
// missing ones; a query for all attributes (nil Query.Attributes) is cached
// as one entry. Empty answers (unknown entity or attribute) are cached like
// any other; failures never are. The cache holds at most the configured
// number of entries and evicts the least recently used first. Concurrent
// identical misses share one upstream fetch.
//
// Values returned are shared with the cache and must not be modified.
type Cache struct {
	next Provider
	cfg  config

	mu      sync.Mutex
	lru     list.List // of *cacheEntry, most recently used first
	items   map[cacheKey]*list.Element
	flights map[string]*flight
}

type cacheKey struct {
	category, key, attribute string
	all                      bool
}

type cacheEntry struct {
	k   cacheKey
	bag []any
	// single is {attribute: bag}, or nil when bag is empty: the answer to
	// a one-attribute query, shared by every hit.
	single  Values
	all     Values
	expires time.Time
}

// flight is one upstream fetch that concurrent identical misses wait for.
type flight struct {
	done chan struct{}
	vals Values
	err  error
	// waiters counts the callers waiting on this flight (under Cache.mu).
	waiters int
	// leaderGaveUp is set when the fetch failed because the context of the
	// caller that made it ended: waiters with live contexts retry.
	leaderGaveUp bool
}

// NewCache wraps p in a TTL cache configured by WithCache (ttl <= 0 here
// means DefaultCacheTTL), WithClock, WithName and WithMetrics.
func NewCache(p Provider, opts ...Option) *Cache {
	c := newConfig(opts)
	if c.cacheTTL <= 0 {
		c.cacheTTL = DefaultCacheTTL
	}
	return &Cache{next: p, cfg: c, items: make(map[cacheKey]*list.Element), flights: make(map[string]*flight)}
}

// Fetch answers from the cache what it can and asks the provider for the
// rest. The answer may hold attributes that were not asked for (a cached
// whole entity is returned as is); look up the ones you asked.
func (c *Cache) Fetch(ctx context.Context, q Query) (Values, error) {
	now := c.cfg.clock.Now()
	allKey := cacheKey{category: q.Category, key: q.Key, all: true}
	c.mu.Lock()
	if e := c.get(allKey, now); e != nil {
		c.mu.Unlock()
		c.cfg.metrics.cacheHit(c.cfg.name)
		return e.all, nil
	}
	if len(q.Attributes) == 0 {
		c.mu.Unlock()
		c.cfg.metrics.cacheMiss(c.cfg.name)
		return c.load(ctx, Query{Category: q.Category, Key: q.Key})
	}
	if len(q.Attributes) == 1 {
		// The engine's usual question: answered from the entry's own
		// one-attribute map, without allocating.
		e := c.get(cacheKey{category: q.Category, key: q.Key, attribute: q.Attributes[0]}, now)
		c.mu.Unlock()
		if e != nil {
			c.cfg.metrics.cacheHit(c.cfg.name)
			return e.single, nil
		}
		c.cfg.metrics.cacheMiss(c.cfg.name)
		return c.load(ctx, q)
	}

	out := make(Values, len(q.Attributes))
	var missing []string
	for _, a := range q.Attributes {
		if e := c.get(cacheKey{category: q.Category, key: q.Key, attribute: a}, now); e != nil {
			if len(e.bag) > 0 {
				out[a] = e.bag
			}
			continue
		}
		if !contains(missing, a) {
			missing = append(missing, a)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		c.cfg.metrics.cacheHit(c.cfg.name)
		return out, nil
	}
	c.cfg.metrics.cacheMiss(c.cfg.name)
	vals, err := c.load(ctx, Query{Category: q.Category, Key: q.Key, Attributes: missing})
	if err != nil {
		return nil, err
	}
	for _, a := range missing {
		if bag := vals[a]; len(bag) > 0 {
			out[a] = bag
		}
	}
	return out, nil
}

// load fetches q upstream, sharing the fetch with identical concurrent
// misses, and stores a successful answer.
func (c *Cache) load(ctx context.Context, q Query) (Values, error) {
	fk := flightKey(q)
	c.mu.Lock()
	if f := c.flights[fk]; f != nil {
		f.waiters++
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("pip %s: %w", c.cfg.name, context.Cause(ctx))
		}
		if !f.leaderGaveUp {
			return f.vals, f.err
		}
		// The leader's caller went away; fetch for ourselves, unshared.
		vals, err := c.next.Fetch(ctx, q)
		if err == nil {
			c.store(q, vals)
		}
		return vals, err
	}
	f := &flight{done: make(chan struct{})}
	c.flights[fk] = f
	c.mu.Unlock()

	finished := false
	defer func() {
		if !finished { // the provider panicked: release the waiters
			f.err = fmt.Errorf("pip %s: %w", c.cfg.name, ErrProviderPanic)
		}
		c.mu.Lock()
		delete(c.flights, fk)
		c.mu.Unlock()
		close(f.done)
	}()
	f.vals, f.err = c.next.Fetch(ctx, q)
	finished = true
	if f.err != nil {
		f.leaderGaveUp = ctx.Err() != nil
		return nil, f.err
	}
	c.store(q, f.vals)
	return f.vals, nil
}

// store caches the answer to q: one entry per attribute asked, or one
// entry for the whole answer when all attributes were asked.
func (c *Cache) store(q Query, vals Values) {
	expires := c.cfg.clock.Now().Add(c.cfg.cacheTTL)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(q.Attributes) == 0 {
		if vals == nil {
			vals = Values{}
		}
		c.put(&cacheEntry{k: cacheKey{category: q.Category, key: q.Key, all: true}, all: vals, expires: expires})
		return
	}
	for _, a := range q.Attributes {
		e := &cacheEntry{k: cacheKey{category: q.Category, key: q.Key, attribute: a}, bag: vals[a], expires: expires}
		if len(e.bag) > 0 {
			e.single = Values{a: e.bag}
		}
		c.put(e)
	}
}

// get returns the live entry for k, dropping it if expired. c.mu is held.
func (c *Cache) get(k cacheKey, now time.Time) *cacheEntry {
	el, ok := c.items[k]
	if !ok {
		return nil
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.lru.Remove(el)
		delete(c.items, k)
		return nil
	}
	c.lru.MoveToFront(el)
	return e
}

// put inserts or replaces an entry and evicts beyond the size bound. c.mu
// is held.
func (c *Cache) put(e *cacheEntry) {
	if el, ok := c.items[e.k]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return
	}
	c.items[e.k] = c.lru.PushFront(e)
	for c.lru.Len() > c.cfg.cacheSize {
		last := c.lru.Back()
		c.lru.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).k)
	}
}

// Len returns the number of entries held, expired ones not yet dropped
// included; it lets tests and health pages see the size bound at work.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// Unwrap returns the wrapped provider, for As.
func (c *Cache) Unwrap() Provider { return c.next }

// flightKey identifies an upstream query for miss sharing.
func flightKey(q Query) string {
	var b strings.Builder
	b.WriteString(q.Category)
	b.WriteByte(0)
	b.WriteString(q.Key)
	if len(q.Attributes) == 0 {
		b.WriteString("\x00\x01")
	}
	for _, a := range q.Attributes {
		b.WriteByte(0)
		b.WriteString(a)
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
