package state

import (
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// ErrBootstrapped refuses a bootstrap token to a group that has tokens.
var ErrBootstrapped = errs.Conflict("token", "bootstrapped", "this group has issued tokens already: a bootstrap token is issued only to a new group; ask a security_admin for one")

func applyTokenBootstrap(t *txn, c *Command, tk *model.Token) (any, error) {
	if k, _ := t.b(BucketToken).Cursor().First(); k != nil {
		return nil, ErrBootstrapped
	}
	return applyTokenCreate(t, c, tk)
}
