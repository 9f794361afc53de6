package pdp

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strconv"
	"sync"
)

// Cache holds compiled policies by content, for the engines of one process
// that run the same policies: a gateway embedding a PDP per tenant, or many
// PDPs of one service receiving the same bundle. Each distinct content is
// compiled once, by the first engine that activates it, while the others
// wait for that compile instead of repeating it; a compile that fails is
// not remembered, so the next activation tries again.
//
// The key is a SHA-256 of everything compiling reads (modules, designated
// attributes), never a name or digest a caller supplies. A Cache is safe
// for concurrent use; it keeps the most recently used entries up to its
// size.
type Cache struct {
	size int

	mu      sync.Mutex
	entries map[[sha256.Size]byte]*compiledEntry
	tick    uint64
}

// compiledEntry is one content, compiled once.
type compiledEntry struct {
	done chan struct{} // closed once c or err is set
	c    *compiled
	err  error
	used uint64 // Cache.tick at the last use, for eviction
}

// NewCache returns a cache of at most size compiled policies (at least 1).
// A few per service is enough: the active revision and the next one.
func NewCache(size int) *Cache {
	return &Cache{size: max(size, 1), entries: make(map[[sha256.Size]byte]*compiledEntry)}
}

// get returns p's compiled form, compiling it with compile unless another
// engine did or is doing it.
func (c *Cache) get(ctx context.Context, p *Policy, compile func(context.Context, *Policy) (*compiled, error)) (*compiled, error) {
	key := contentKey(p)
	c.mu.Lock()
	c.tick++
	if e, ok := c.entries[key]; ok {
		e.used = c.tick
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err != nil {
			// The compile that others waited for failed (perhaps only
			// its context ended): compile this one ourselves.
			return compile(ctx, p)
		}
		return e.c, nil
	}
	e := &compiledEntry{done: make(chan struct{}), used: c.tick}
	c.entries[key] = e
	c.evictLocked()
	c.mu.Unlock()

	e.c, e.err = compile(ctx, p)
	if e.err != nil {
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	close(e.done)
	return e.c, e.err
}

// evictLocked drops the least recently used entries beyond the size.
func (c *Cache) evictLocked() {
	for len(c.entries) > c.size {
		var oldest [sha256.Size]byte
		first := true
		var oldestUse uint64
		for k, e := range c.entries {
			if first || e.used < oldestUse {
				oldest, oldestUse, first = k, e.used, false
			}
		}
		delete(c.entries, oldest)
	}
}

// Len returns the number of compiled policies held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// contentKey hashes what compile reads from p, each piece length-prefixed
// so that no two different contents share an encoding.
func contentKey(p *Policy) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	write := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	names := make([]string, 0, len(p.Modules))
	for name := range p.Modules {
		names = append(names, name)
	}
	slices.Sort(names)
	write(strconv.Itoa(len(names)))
	for _, name := range names {
		write(name)
		write(p.Modules[name])
	}
	write(strconv.FormatBool(p.AttributesComplete))
	write(strconv.Itoa(len(p.Attributes)))
	for _, a := range p.Attributes {
		write(a.Category)
		write(a.ID)
		write(a.Type)
		write(a.Issuer)
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}
