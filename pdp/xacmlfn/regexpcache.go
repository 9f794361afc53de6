package xacmlfn

import (
	"container/list"
	"regexp"
	"sync"
)

// regexpCache keeps compiled regular expressions, keyed by the XPath
// pattern, so that a policy's regexp-match does not translate and compile
// its pattern on every decision. It is bounded (least recently used entries
// are evicted) because patterns can come from request attributes, and safe
// for concurrent use because one engine serves many decisions at once.
// Failures are cached too: a bad pattern in a policy fails fast every time.
type regexpCache struct {
	mu      sync.Mutex
	max     int
	order   *list.List // front is most recently used; values are *regexpEntry
	entries map[string]*list.Element
}

type regexpEntry struct {
	pattern string
	re      *regexp.Regexp
	err     error
}

func newRegexpCache(size int) *regexpCache {
	return &regexpCache{
		max:     size,
		order:   list.New(),
		entries: make(map[string]*list.Element, size),
	}
}

// get returns the compiled pattern, compiling it on a miss. Compilation runs
// outside the lock so that a slow pattern does not stall other decisions; two
// goroutines missing on the same pattern at once both compile it and the
// second store wins, which is harmless.
func (c *regexpCache) get(pattern string) (*regexp.Regexp, error) {
	if c.max <= 0 {
		return compileRegexp(pattern)
	}
	c.mu.Lock()
	if el, ok := c.entries[pattern]; ok {
		c.order.MoveToFront(el)
		e := el.Value.(*regexpEntry)
		c.mu.Unlock()
		return e.re, e.err
	}
	c.mu.Unlock()

	re, err := compileRegexp(pattern)

	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[pattern]; ok {
		c.order.MoveToFront(el)
		return re, err
	}
	c.entries[pattern] = c.order.PushFront(&regexpEntry{pattern: pattern, re: re, err: err})
	for c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*regexpEntry).pattern)
	}
	return re, err
}

// len reports the number of cached patterns.
func (c *regexpCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
