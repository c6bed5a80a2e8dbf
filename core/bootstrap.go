package core

import (
	"context"
)

// A new group's first token comes from its operator (FENGQIAO_TOKEN): the
// leader issues it when the group is seeded. It is issued into a group that
// holds no token at all, and never again: a node restarted with the
// variable still set, after the token was revoked, expired or tidied away,
// must not bring it back. The rule is in apply, so no two leaders can both
// pass it.

// Bootstrap issues a new group's first token as CreateWith does, and fails
// with ErrBootstrapped, changing nothing, once the group holds any token,
// live or not.
func (ts *Tokens) Bootstrap(ctx context.Context, spec TokenSpec) (*Issued, error) {
	return ts.issue(ctx, "token.bootstrap", spec)
}
