package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/state"
)

// Idempotent retries. A caller that may retry a write after an unknown
// outcome gives it a key; the command id is derived from the key, apply
// records keyed ids with what they made, and a second command with the same
// id is refused with a DuplicateError naming the first one's result. Unkeyed
// commands have random ids and are not recorded.

type keyCtx struct{}

// WithIdempotencyKey makes the next single write made with ctx idempotent
// under key (1..200 printable characters). Callers scope keys themselves, for
// example by prefixing the caller's identity.
func WithIdempotencyKey(ctx context.Context, key string) (context.Context, error) {
	if key == "" || len(key) > 200 || strings.IndexFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return ctx, errs.Invalid("Idempotency-Key", "format", "an idempotency key is 1..200 printable characters")
	}
	return context.WithValue(ctx, keyCtx{}, key), nil
}

type digestCtx struct{}

// WithRequestDigest names the request a keyed write comes from (a hash of
// what the caller sent). Apply refuses the key given again with another
// digest (errs.ErrKeyReused) rather than answer with the first result.
func WithRequestDigest(ctx context.Context, digest string) context.Context {
	return context.WithValue(ctx, digestCtx{}, digest)
}

// requestDigest is the digest of a keyed write's request, "" for none.
func requestDigest(ctx context.Context) string {
	if k, _ := ctx.Value(keyCtx{}).(string); k == "" {
		return ""
	}
	d, _ := ctx.Value(digestCtx{}).(string)
	return d
}

// withoutKey drops the key: operations that propose many commands (imports,
// loading a county) must not give them all one id.
func withoutKey(ctx context.Context) context.Context {
	if k, _ := ctx.Value(keyCtx{}).(string); k != "" {
		return context.WithValue(ctx, keyCtx{}, "")
	}
	return ctx
}

func commandID(ctx context.Context) string {
	if k, _ := ctx.Value(keyCtx{}).(string); k != "" {
		h := sha256.Sum256([]byte(k))
		return state.KeyedPrefix + hex.EncodeToString(h[:24])
	}
	return NewID()
}
