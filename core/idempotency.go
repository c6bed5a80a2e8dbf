package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Idempotent retries. A caller that may retry a write after an unknown
// outcome gives it a key; the command id is derived from the key, apply
// records keyed ids with what they made, and a second command with the same
// id is refused with a DuplicateError naming the first one's result. Unkeyed
// commands have random ids and are not recorded.

const keyedPrefix = "k-"

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

// withoutKey drops the key: operations that propose many commands (imports,
// loading a county) must not give them all one id.
func withoutKey(ctx context.Context) context.Context {
	if k, _ := ctx.Value(keyCtx{}).(string); k != "" {
		return context.WithValue(ctx, keyCtx{}, "")
	}
	return ctx
}

// KeyedCommandID reports whether a command id was derived from an
// idempotency key: such a command may come again, and apply answers the
// repeat with the first result.
func KeyedCommandID(id string) bool { return strings.HasPrefix(id, keyedPrefix) }

func commandID(ctx context.Context) string {
	if k, _ := ctx.Value(keyCtx{}).(string); k != "" {
		h := sha256.Sum256([]byte(k))
		return keyedPrefix + hex.EncodeToString(h[:24])
	}
	return NewID()
}

// DuplicateError says a command with this id was applied already; Ref names
// what it made (an event number, a person id), "" when nothing is named.
// It matches errs.ErrConflict.
type DuplicateError struct {
	ID  string
	Ref string
}

// Error names the command and its original result.
func (e *DuplicateError) Error() string {
	return fmt.Sprintf("conflict: command %s was applied already (result %q)", e.ID, e.Ref)
}

// Is lets errors.Is(err, errs.ErrConflict) match.
func (e *DuplicateError) Is(target error) bool { return target == errs.ErrConflict }

// refOf names what a command made, for DuplicateError.
func refOf(v any) string {
	switch x := v.(type) {
	case *model.Event:
		return x.ID
	case *model.Person:
		return x.ID
	case *model.Grid:
		return x.Code
	case *model.Token:
		return x.ID
	case *model.Org:
		return x.ID
	case *model.Member:
		return x.ID
	case *model.Activity:
		return x.ID
	case *model.Visit:
		return fmt.Sprintf("%s/%d", x.Person, x.Seq)
	case *model.House:
		return x.ID
	}
	return ""
}
