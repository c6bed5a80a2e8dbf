package core

import (
	"context"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// A new group's first token comes from its operator (FENGQIAO_TOKEN): the
// leader issues it when the group is seeded. It is issued into a group that
// holds no token at all, and never again: a node restarted with the
// variable still set, after the token was revoked, expired or tidied away,
// must not bring it back. The rule is in apply, so no two leaders can both
// pass it.

// ErrBootstrapped refuses a bootstrap token to a group that has tokens.
var ErrBootstrapped = errs.Conflict("token", "bootstrapped", "this group has issued tokens already: a bootstrap token is issued only to a new group; ask a security_admin for one")

func applyTokenBootstrap(t *txn, c *Command, tk *model.Token) (any, error) {
	if k, _ := t.b(bToken).Cursor().First(); k != nil {
		return nil, ErrBootstrapped
	}
	return applyTokenCreate(t, c, tk)
}

// Bootstrap issues a new group's first token as CreateWith does, and fails
// with ErrBootstrapped, changing nothing, once the group holds any token,
// live or not.
func (ts *Tokens) Bootstrap(ctx context.Context, spec TokenSpec) (*Issued, error) {
	return ts.issue(ctx, "token.bootstrap", spec)
}
