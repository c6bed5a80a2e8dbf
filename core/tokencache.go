package core

import (
	"sync"

	"github.com/fengqiao/fengqiao/core/model"
)

// tokenCache keeps the live tokens that authenticated recently, by secret
// hash, so a request does not open a read transaction to find its caller.
// Any token command or state swap empties it. Only hits are kept, so its
// size is bounded by the tokens that exist, and a guessed secret is never
// remembered.
type tokenCache struct {
	mu     sync.Mutex
	gen    uint64 // bumped on every invalidation
	byHash map[string]model.Token
}

// generation is read before the lookup that may fill the cache.
func (c *tokenCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *tokenCache) get(hash string) (model.Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tk, ok := c.byHash[hash]
	return tk, ok
}

// put stores a lookup made at generation gen, unless the tokens changed
// since: a read that began before a revoke committed must not bring the
// revoked token back.
func (c *tokenCache) put(gen uint64, hash string, tk model.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.byHash == nil {
		c.byHash = map[string]model.Token{}
	}
	c.byHash[hash] = tk
}

func (c *tokenCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.byHash = nil
}
