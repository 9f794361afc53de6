package pdp

import (
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// ruleCache is the cache of evaluated rules (OPA's topdown.VirtualCache)
// for one query. OPA's own is a tree of hash maps, one per reference
// segment, allocated afresh for each query; a compiled policy's decision
// evaluates a few dozen rules at most, so a flat list compared from the
// last (most selective) segment is cheaper, and it is reused through a
// pool.
type ruleCache struct {
	// frames holds, per pushed frame, the index of its first entry.
	frames  []int
	entries []cacheEntry
	// keys is the backing store of the entries' references: OPA may reuse
	// the slice it passes to Put.
	keys []*ast.Term
}

type cacheEntry struct {
	start, end int
	value      *ast.Term
	undefined  bool
}

// ruleCachePool recycles caches between decisions.
type ruleCachePool struct{ p sync.Pool }

func (p *ruleCachePool) get() *ruleCache {
	if c, ok := p.p.Get().(*ruleCache); ok {
		return c
	}
	return &ruleCache{frames: []int{0}}
}

func (p *ruleCachePool) put(c *ruleCache) {
	if len(c.entries) > 1024 {
		return // an unusual query: let the garbage collector have it
	}
	clear(c.entries)
	clear(c.keys)
	c.entries, c.keys, c.frames = c.entries[:0], c.keys[:0], append(c.frames[:0], 0)
	p.p.Put(c)
}

// Push starts a frame (OPA does so for with statements).
func (c *ruleCache) Push() { c.frames = append(c.frames, len(c.entries)) }

// Pop drops the top frame and its entries.
func (c *ruleCache) Pop() {
	top := c.frames[len(c.frames)-1]
	c.frames = c.frames[:len(c.frames)-1]
	if top < len(c.entries) {
		clear(c.entries[top:])
		c.entries = c.entries[:top]
	}
}

func (c *ruleCache) find(ref ast.Ref) int {
	top := c.frames[len(c.frames)-1]
	n := len(ref)
	for i := len(c.entries) - 1; i >= top; i-- {
		e := &c.entries[i]
		if e.end-e.start != n {
			continue
		}
		key := c.keys[e.start:e.end]
		same := true
		for j := n - 1; j >= 0; j-- {
			if key[j] != ref[j] && !key[j].Equal(ref[j]) {
				same = false
				break
			}
		}
		if same {
			return i
		}
	}
	return -1
}

// Get returns the cached value of ref; (nil, true) records an undefined
// result, (nil, false) a miss.
func (c *ruleCache) Get(ref ast.Ref) (*ast.Term, bool) {
	i := c.find(ref)
	if i < 0 {
		return nil, false
	}
	e := &c.entries[i]
	if e.undefined {
		return nil, true
	}
	return e.value, false
}

// Put records the value of ref (nil: undefined) in the top frame.
func (c *ruleCache) Put(ref ast.Ref, value *ast.Term) {
	i := c.find(ref)
	if i < 0 {
		start := len(c.keys)
		c.keys = append(c.keys, ref...)
		c.entries = append(c.entries, cacheEntry{start: start, end: len(c.keys)})
		i = len(c.entries) - 1
	}
	e := &c.entries[i]
	if value != nil {
		e.value = value
	} else {
		e.undefined = true
	}
}

// Keys returns the references with a value in the top frame.
func (c *ruleCache) Keys() []ast.Ref {
	var out []ast.Ref
	for _, e := range c.entries[c.frames[len(c.frames)-1]:] {
		if e.value != nil {
			out = append(out, append(ast.Ref(nil), c.keys[e.start:e.end]...))
		}
	}
	return out
}
