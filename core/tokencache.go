package core

import (
	"sync"

	"github.com/fengqiao/fengqiao/core/model"
)

// tokenCache keeps the live tokens that authenticated recently, by secret
// hash, so a request does not open a read transaction to find its caller.
// The Tokens service owns it; the engine only counts token changes
// (Engine.TokenGeneration), and a cache filled under an older count is
// dropped whole. Only hits are kept, so its size is bounded by the tokens
// that exist, and a guessed secret is never remembered.
type tokenCache struct {
	mu     sync.Mutex
	gen    uint64 // the engine's token generation the entries were read at
	byHash map[string]model.Token
}

// sync drops the entries when the tokens changed since they were read.
func (c *tokenCache) sync(gen uint64) {
	if gen != c.gen {
		c.gen, c.byHash = gen, nil
	}
}

func (c *tokenCache) get(gen uint64, hash string) (model.Token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sync(gen)
	tk, ok := c.byHash[hash]
	return tk, ok
}

// put stores a lookup made at generation gen, unless the tokens changed
// since: a read that began before a revoke committed must not bring the
// revoked token back.
func (c *tokenCache) put(gen uint64, hash string, tk model.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen < c.gen {
		return
	}
	c.sync(gen)
	if c.byHash == nil {
		c.byHash = map[string]model.Token{}
	}
	c.byHash[hash] = tk
}

// clear forgets every entry (benchmarks of the uncached path).
func (c *tokenCache) clear() {
	c.mu.Lock()
	c.byHash = nil
	c.mu.Unlock()
}
