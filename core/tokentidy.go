package core

import (
	"context"
	"time"

	"github.com/fengqiao/fengqiao/core/state"
)

// Tidying removes tokens that can no longer authenticate, so listings and
// the token store hold working tokens only. What each token was, and who
// issued and revoked it, stays in the audit chain.

// Tidy deletes the tokens whose scope lies under the jurisdiction under that
// no longer work: every revoked one, and those that expired before `before`,
// which may not be later than the command's own time. It returns how many
// it deleted.
func (ts *Tokens) Tidy(ctx context.Context, under string, before time.Time) (int, error) {
	return applyAs[int](ctx, ts.s, "token.tidy", under, state.TidyPayload{Under: under, Before: before.UTC()})
}

// TidyAll tidies under every top-level jurisdiction loaded (the tidy job).
// When no token is due to go it proposes nothing.
func (ts *Tokens) TidyAll(ctx context.Context, before time.Time) (int, error) {
	roots, err := ts.s.engine.TidyRoots(before)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, r := range roots {
		n, err := ts.Tidy(ctx, r, before)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
