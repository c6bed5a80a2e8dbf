package core

import (
	"context"

	"github.com/fengqiao/fengqiao/core/model"
)

// Up and down the tiers: escalation (上报上级), dispatch (交办), supervision
// (督办), outcomes back to the origin, and figures rolled up.

// SendRollup sends the current figures up (the leader does it periodically).
// With no parent link it proposes nothing.
func (f *Federation) SendRollup(ctx context.Context) error {
	if parent, err := f.hasParent(); err != nil || !parent {
		return err
	}
	_, err := f.s.apply(ctx, "rollup.send", "", struct{}{})
	return err
}

// Rollups returns the figures heard from the subtree, by jurisdiction.
func (f *Federation) Rollups() ([]model.Rollup, error) {
	return f.s.engine.Rollups()
}

// Rollup returns the figures last heard for code.
func (f *Federation) Rollup(code string) (model.Rollup, bool, error) {
	return f.s.engine.Rollup(code)
}
