package core

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// SetSpecial creates or replaces a person's special-population record.
func (pp *People) SetSpecial(ctx context.Context, id string, in model.SpecialInput) (*model.Person, error) {
	if !slices.Contains(model.SpecialCategories, in.Category) {
		return nil, errs.Invalid("category", "enum", "category must be one of %v", model.SpecialCategories)
	}
	if in.Level < 1 || in.Level > 3 {
		return nil, errs.Invalid("level", "range", "attention level must be 1..3")
	}
	if err := in.Details.Check(in.Category); err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(in.Details)
	sealed, err := pp.s.keyring().Seal(raw, "person/"+id+"/special")
	if err != nil {
		return nil, err
	}
	s := &model.Special{Category: in.Category, Level: in.Level, DetailsSealed: sealed, Team: in.Team, Since: in.Since.UTC()}
	return applyAs[*model.Person](ctx, pp.s, "person.special", "", state.SpecialPayload{ID: id, Special: s})
}

// RecordVisit records a 走访 and moves the next due date.
func (pp *People) RecordVisit(ctx context.Context, id string, in model.VisitInput) (*model.Visit, error) {
	v := model.Visit{Person: id, At: in.At.UTC(), Visitor: in.Visitor, Method: in.Method, Found: in.Found}
	if in.Note != "" {
		sealed, err := pp.s.keyring().Seal([]byte(in.Note), "person/"+id+"/visit")
		if err != nil {
			return nil, err
		}
		v.NoteSealed = sealed
	}
	return applyAs[*model.Visit](ctx, pp.s, "person.visit", "", v)
}

// MarkContact sets normal, lost_contact (失联) or out_of_control (脱管). Losing
// contact opens an event, which is returned.
func (pp *People) MarkContact(ctx context.Context, id, contact, note string) (*model.Event, error) {
	return applyAs[*model.Event](ctx, pp.s, "person.contact", "", state.ContactPayload{ID: id, Contact: contact, Note: note})
}

// SetVisitPolicy replaces the visit intervals.
func (pp *People) SetVisitPolicy(ctx context.Context, p model.VisitPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	_, err := pp.s.apply(ctx, "config.visit_policy", "", p)
	return err
}

// Visits lists a person's visits, oldest first, a page at a time: after is
// the previous page's next ("" for the first), next is "" on the last page,
// and limit is 1..500 (else 100). A cursor from another person's visits is
// refused (field cursor).
func (pp *People) Visits(id, after string, limit int) (visits []model.Visit, next string, err error) {
	return pp.s.engine.Visits(id, after, limit)
}

// RevealVisits lists a person's visits with their notes opened, a page at
// a time, as Visits does. The read is an audit record, with its purpose,
// before anything is opened.
func (pp *People) RevealVisits(ctx context.Context, id string, why model.Purpose, after string, limit int) ([]model.RevealedVisit, string, error) {
	if err := why.Check(); err != nil {
		return nil, "", err
	}
	p, err := pp.Get(id)
	if err != nil {
		return nil, "", err
	}
	vs, next, err := pp.Visits(id, after, limit)
	if err != nil {
		return nil, "", err
	}
	if _, err := pp.s.apply(ctx, "audit.read", p.Jurisdiction, state.ReadPayload{Person: id, Fields: []string{"visit.note"}, Purpose: why.Text, Basis: why.Basis}); err != nil {
		return nil, "", err
	}
	kr := pp.s.keyring()
	out := make([]model.RevealedVisit, len(vs))
	for i, v := range vs {
		out[i] = model.RevealedVisit{Person: v.Person, Seq: v.Seq, At: v.At, Visitor: v.Visitor, Method: v.Method, Found: v.Found}
		if v.NoteSealed != "" {
			note, err := kr.Open(v.NoteSealed, "person/"+id+"/visit")
			if err != nil {
				return nil, "", err
			}
			out[i].Note = string(note)
		}
	}
	return out, next, nil
}

// DueVisits lists special-population subjects under a jurisdiction whose next
// visit is due before the given time (pass now for the overdue ones).
func (pp *People) DueVisits(under string, before time.Time, limit int) ([]*model.Person, error) {
	return pp.s.engine.DueVisits(under, before, limit)
}

// SweepVisits opens an event for each subject whose visit is overdue at now
// and not yet alerted for this cycle, returning how many it opened.
func (pp *People) SweepVisits(ctx context.Context, now time.Time) (int, error) {
	due, err := pp.DueVisits("", now, 1000)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	ids := make([]string, 0, len(due))
	for _, p := range due {
		if !p.Special.AlertedFor.Equal(p.Special.NextDue) {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return applyAs[int](ctx, pp.s, "person.visit_alerts", "", state.IdsPayload{IDs: ids})
}
