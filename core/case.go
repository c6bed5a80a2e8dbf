package core

import (
	"context"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Cross-region cases (跨区域互涉案事件). A case has one lead (主办) and
// co-handlers (协办). Every participant may add entries at any time, even
// cut off; entries are a grow-only set keyed by id and ordered by a hybrid
// logical clock, so every participant ends with the same timeline. Status
// belongs to the lead; versions carry the lead's epoch, so a handed-over
// lead's changes win over its predecessor's.

// Cases is the typed API for cross-region cases.
type Cases struct{ s *Store }

// Open starts a case led by this jurisdiction with the other participants.
func (cs *Cases) Open(ctx context.Context, title, description string, participants []string) (*model.Case, error) {
	p := state.CaseOpenPayload{Title: title, Description: description, Participants: participants}
	if err := p.Check(); err != nil {
		return nil, err
	}
	return applyAs[*model.Case](ctx, cs.s, "case.open", "", p)
}

// AddEntry appends an entry; it works while cut off from the others and
// reaches them when the links heal.
func (cs *Cases) AddEntry(ctx context.Context, id, text string) (*model.CaseEntry, error) {
	seen, err := cs.s.engine.HLC()
	if err != nil {
		return nil, err
	}
	return applyAs[*model.CaseEntry](ctx, cs.s, "case.entry", "", state.CaseEntryPayload{Case: id, Text: text, HLC: state.NextHLC(cs.s.clock(), seen)})
}

// SetStatus changes the status (lead only).
func (cs *Cases) SetStatus(ctx context.Context, id, status string) (*model.Case, error) {
	return applyAs[*model.Case](ctx, cs.s, "case.status", "", state.CaseStatusPayload{Case: id, Status: status})
}

// HandOver makes another participant the lead (lead only).
func (cs *Cases) HandOver(ctx context.Context, id, to string) (*model.Case, error) {
	return applyAs[*model.Case](ctx, cs.s, "case.lead", "", state.CaseLeadPayload{Case: id, To: to})
}

// Get returns a case with all its entries in HLC order.
func (cs *Cases) Get(id string) (*model.Case, error) {
	c, _, err := cs.head(id, 0)
	return c, err
}

// Head returns a case with the first n entries of its timeline in HLC order
// (1..500, else 100), read in one view, and the cursor for Entries to go on
// with ("" when that is all).
func (cs *Cases) Head(id string, n int) (*model.Case, string, error) {
	return cs.head(id, state.PageLimit(n, 100, 500))
}

// head reads a case and up to n entries (0: all) in one view.
func (cs *Cases) head(id string, n int) (*model.Case, string, error) {
	return cs.s.engine.CaseHead(id, n)
}

// Entries lists a case's timeline entries in HLC order, a page at a time:
// after is the previous page's next ("" for the first), next is "" on the
// last page, and limit is 1..500 (else 100). A cursor from another case's
// entries is refused (field cursor); an unknown case is not found (field id).
func (cs *Cases) Entries(id, after string, limit int) (entries []model.CaseEntry, next string, err error) {
	return cs.s.engine.CaseEntries(id, after, limit)
}

// List returns the cases this jurisdiction takes part in, without entries,
// by id, a page at a time: after is the previous page's next ("" for the
// first), next is "" on the last page, and limit is 1..500 (else 100).
func (cs *Cases) List(after string, limit int) (cases []model.Case, next string, err error) {
	return cs.s.engine.Cases(after, limit)
}
