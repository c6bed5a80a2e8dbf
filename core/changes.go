package core

import (
	"context"
	"strings"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Changes is the typed API for the change feed (state/changes.go): what
// each applied command changed, in order, for live views, plugins'
// on-transition hooks and webhooks.
type Changes struct{ s *Store }

// MaxChangePage bounds one read of the feed.
const MaxChangePage = 1000

// Viewer is who reads the feed: the changes outside its scope, and those
// about special-population records it may not see, are left out. The zero
// Viewer (the node itself, an embedding program) sees every change.
type Viewer struct {
	Role  string
	Scope string
}

// Since reads up to limit changes after seq after that v may see.
func (cs *Changes) Since(after uint64, limit int, v Viewer) (model.ChangePage, error) {
	if limit < 1 || limit > MaxChangePage {
		return model.ChangePage{}, errs.Invalid("limit", "range", "limit must be 1..%d", MaxChangePage)
	}
	var keep func(model.Change) bool
	if v != (Viewer{}) {
		keep = func(ch model.Change) bool { return v.sees(ch) }
	}
	return cs.s.engine.Changes(after, limit, keep)
}

// sees applies scope and minimum necessary to one change.
func (v Viewer) sees(ch model.Change) bool {
	if ch.Place == "" || !access.Under(ch.Place, v.Scope) {
		return false
	}
	// That a special-population record moved is itself special-population
	// information (PIPL art. 28).
	if ch.Kind == model.ChangePerson && ch.Command != "person.add" && strings.HasPrefix(ch.Command, "person.") {
		return access.SeesSpecial(v.Role, v.Scope, ch.Place)
	}
	return true
}

// Wait blocks until the feed holds a change after seq after, or ctx ends.
func (cs *Changes) Wait(ctx context.Context, after uint64) error {
	for {
		ready := cs.s.engine.ChangeNotify()
		page, err := cs.s.engine.Changes(after, 1, nil)
		if err != nil || page.Last > after {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ready:
		}
	}
}

// Ack records in replicated state that consumer has handled every change up
// to seq, so whichever replica leads next resumes after it. A cursor never
// moves back; the result is the cursor as it stands.
func (cs *Changes) Ack(ctx context.Context, consumer string, seq uint64) (uint64, error) {
	if err := model.CheckID("consumer", consumer); err != nil {
		return 0, err
	}
	return applyAs[uint64](ctx, cs.s, "changes.ack", "", state.ChangeAckPayload{Consumer: consumer, Seq: seq})
}

// Cursor is the seq consumer last acknowledged (0: none yet).
func (cs *Changes) Cursor(consumer string) (uint64, error) {
	if err := model.CheckID("consumer", consumer); err != nil {
		return 0, err
	}
	return cs.s.engine.ChangeCursor(consumer)
}

// ForPlugin reads up to limit changes after seq after that a plugin
// serving v's jurisdictions may see: those in its jurisdictions, and never
// a special-population record's moves (a plugin holds no role that may
// reveal them).
func (cs *Changes) ForPlugin(after uint64, limit int, v *model.PluginVersion) (model.ChangePage, error) {
	if limit < 1 || limit > MaxChangePage {
		return model.ChangePage{}, errs.Invalid("limit", "range", "limit must be 1..%d", MaxChangePage)
	}
	return cs.s.engine.Changes(after, limit, func(ch model.Change) bool {
		for _, j := range v.Jurisdictions {
			if (Viewer{Scope: j}).sees(ch) {
				return true
			}
		}
		return false
	})
}

// Bounds is the oldest change the feed holds and the newest (0 when none):
// a consumer whose cursor the retention passed resumes after oldest-1.
func (cs *Changes) Bounds() (oldest, newest uint64, err error) { return cs.s.engine.ChangeBounds() }
