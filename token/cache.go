package token

import (
	"encoding/binary"
	"sync"
	"time"
)

// cacheShards is the number of independently locked cache shards; verifying
// goroutines contend only when their tokens hash to the same shard.
const cacheShards = 16

// evictionSample bounds the work of one insertion into a full shard.
const evictionSample = 8

// tokenCache remembers verified tokens by the SHA-256 of their compact form
// until their exp, so that a service seeing the same bearer token on every
// request pays for the signature once. Its size is bounded; a full shard
// evicts expired entries first, then an arbitrary one (random sampling over
// Go's randomized map iteration), in O(1).
type tokenCache struct {
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.Mutex
	m  map[[32]byte]cacheEntry
}

type cacheEntry struct {
	claims *Claims
	key    *Key
	header header
	// until is the token's exp: after it the entry is dead.
	until time.Time
}

func newTokenCache(size int) *tokenCache {
	per := max(1, (size+cacheShards-1)/cacheShards)
	c := &tokenCache{perShard: per}
	for i := range c.shards {
		c.shards[i].m = make(map[[32]byte]cacheEntry)
	}
	return c
}

func (c *tokenCache) shard(sum *[32]byte) *cacheShard {
	return &c.shards[binary.LittleEndian.Uint64(sum[:8])%cacheShards]
}

// get returns the live entry for sum; an expired entry is dropped.
func (c *tokenCache) get(sum *[32]byte, now time.Time) (cacheEntry, bool) {
	s := c.shard(sum)
	s.mu.Lock()
	e, ok := s.m[*sum]
	if ok && !now.Before(e.until) {
		delete(s.m, *sum)
		ok = false
	}
	s.mu.Unlock()
	return e, ok
}

func (c *tokenCache) put(sum *[32]byte, e cacheEntry, now time.Time) {
	s := c.shard(sum)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.m[*sum]; !exists && len(s.m) >= c.perShard {
		var victim [32]byte
		evicted, n := false, 0
		for k, old := range s.m {
			if !now.Before(old.until) {
				delete(s.m, k)
				evicted = true
			} else if n == 0 {
				victim = k
			}
			if n++; n == evictionSample {
				break
			}
		}
		if !evicted {
			delete(s.m, victim)
		}
	}
	s.m[*sum] = e
}

func (c *tokenCache) delete(sum *[32]byte) {
	s := c.shard(sum)
	s.mu.Lock()
	delete(s.m, *sum)
	s.mu.Unlock()
}

// len returns the number of entries, live or not yet swept.
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
