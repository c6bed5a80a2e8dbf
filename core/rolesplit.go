package core

import (
	"context"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/state"
)

// Splitting the roles (三员分立) is one explicit, audited step per group.
// Before it, center_admin held everything and "auditor" read the audit.
// The step renames every auditor token to audit_admin and issues the first
// security_admin and system_admin tokens, once: afterwards it is refused.
// A group made by this version marks the split when it is seeded.

// Split is what SplitRoles did: how many auditor tokens became audit_admin,
// and the administrators it issued with their secrets, shown once.
type Split struct {
	Renamed int      `json:"renamed"`
	Issued  []Issued `json:"issued"`
}

// SplitRoles splits the administrative roles of a group made before they
// were split, once: auditor tokens become audit_admin, and when scope is
// set a security_admin and a system_admin token are issued for it, each
// expiring after the store's MaxAdminTTL. With scope "" it only marks a new group as
// split. A second call fails with ErrRolesSplit and changes nothing.
func (ts *Tokens) SplitRoles(ctx context.Context, scope string) (*Split, error) {
	var p state.SplitPayload
	out := &Split{Issued: []Issued{}}
	if scope != "" {
		for _, role := range []string{access.SecurityAdmin, access.SystemAdmin} {
			is, err := ts.prepare(TokenSpec{Name: "first " + role, Role: role, Scope: scope})
			if err != nil {
				return nil, err
			}
			p.Issue = append(p.Issue, *is.Token)
			out.Issued = append(out.Issued, *is)
		}
	}
	n, err := applyAs[int](ctx, ts.s, "token.split_roles", scope, p)
	if err != nil {
		return nil, err
	}
	out.Renamed = n
	for i := range out.Issued {
		if out.Issued[i].Token, err = ts.Get(p.Issue[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}
