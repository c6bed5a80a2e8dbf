package state

import (
	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// SplitPayload is the payload of token.split_roles.
type SplitPayload struct {
	Issue []model.Token `json:"issue,omitempty"` // the first administrators, hashes only
}

// ErrRolesSplit marks a second attempt to split the roles.
var ErrRolesSplit = errs.Conflict("roles", "split", "the administrative roles are already split (三员分立); ask a security_admin for tokens")

func applySplitRoles(t *txn, c *Command, p *SplitPayload) (any, error) {
	if t.b(BucketMeta).Get(rolesSplitKey) != nil {
		return nil, ErrRolesSplit
	}
	var renamed []*model.Token
	cur := t.b(BucketToken).Cursor()
	for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
		var tk model.Token
		if _, err := t.getRecord(BucketToken, k, &tk); err != nil {
			return nil, err
		}
		if tk.Role == access.LegacyAuditor {
			tk.Role = access.AuditAdmin
			renamed = append(renamed, &tk)
		}
	}
	// Written after the scan: a bbolt cursor does not survive writes.
	for _, tk := range renamed {
		if err := t.putRecord(BucketToken, []byte(tk.ID), tk); err != nil {
			return nil, err
		}
	}
	for i := range p.Issue {
		if _, err := applyTokenCreate(t, c, &p.Issue[i]); err != nil {
			return nil, err
		}
	}
	if len(renamed) > 0 {
		t.effect(func(e *Engine) { e.tokenGen.Add(1) })
	}
	return len(renamed), t.b(BucketMeta).Put(rolesSplitKey, []byte{1})
}
