package core

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// Party is the typed API for party-building (党建).
type Party struct{ s *Store }

// PutOrg creates or updates an org.
func (p *Party) PutOrg(ctx context.Context, o model.Org) (*model.Org, error) {
	if err := model.CheckID("id", o.ID); err != nil {
		return nil, err
	}
	return applyAs[*model.Org](ctx, p.s, "party.org", o.Jurisdiction, o)
}

// PutMember creates or updates a member.
func (p *Party) PutMember(ctx context.Context, m model.Member) (*model.Member, error) {
	if err := model.CheckID("id", m.ID); err != nil {
		return nil, err
	}
	return applyAs[*model.Member](ctx, p.s, "party.member", "", m)
}

// RecordActivity records a meeting with its attendance.
func (p *Party) RecordActivity(ctx context.Context, a model.Activity) (*model.Activity, error) {
	if a.ID == "" {
		a.ID = NewID()
	}
	return applyAs[*model.Activity](ctx, p.s, "party.activity", "", a)
}

// Orgs lists the orgs whose jurisdiction lies under code, by jurisdiction
// code and then id, a page at a time: after is the previous page's next ("" for the first), next is ""
// on the last page, and limit is 1..500 (else 100).
func (p *Party) Orgs(under, after string, limit int) (orgs []model.Org, next string, err error) {
	return p.orgs(under, after, state.PageLimit(limit, 100, 500))
}

// orgs is Orgs with limit 0 meaning all.
func (p *Party) orgs(under, after string, limit int) ([]model.Org, string, error) {
	return p.s.engine.Orgs(under, after, limit)
}

// Org returns one org.
func (p *Party) Org(id string) (*model.Org, error) {
	return p.s.engine.Org(id)
}

// Members lists an org's members by id, a page at a time, as Orgs does.
func (p *Party) Members(org, after string, limit int) (members []model.Member, next string, err error) {
	return p.s.engine.Members(org, after, limit)
}

// Activities lists an org's activities (三会一课, 主题党日) by date, a page
// at a time, as Members does.
func (p *Party) Activities(org, after string, limit int) (activities []model.Activity, next string, err error) {
	return p.s.engine.Activities(org, after, limit)
}

// Coverage lists the active grids under a jurisdiction that no branch or
// group is built on.
func (p *Party) Coverage(under string) (uncovered []string, total int, err error) {
	return p.s.engine.Coverage(under)
}

// Compliance lists the orgs under a jurisdiction that are behind their
// 三会一课 / 主题党日 schedule as of asOf.
func (p *Party) Compliance(under string, asOf time.Time) ([]model.Lapse, error) {
	orgs, _, err := p.orgs(under, "", 0)
	if err != nil {
		return nil, err
	}
	kinds := slices.Sorted(maps.Keys(model.ActivityKinds))
	var out []model.Lapse
	for _, o := range orgs {
		for _, k := range kinds {
			spec := model.ActivityKinds[k]
			if spec.Holder != o.Kind {
				continue
			}
			last := o.Last[k]
			if last.After(asOf) { // planned, not held: the last one held counts
				var err error
				if last, err = p.s.engine.LastHeld(o.ID, k, asOf); err != nil {
					return nil, err
				}
			}
			if last.IsZero() {
				out = append(out, model.Lapse{Org: o.ID, Name: o.Name, Kind: k})
				continue
			}
			due := last.AddDate(0, spec.Months, 0)
			if asOf.After(due) {
				out = append(out, model.Lapse{Org: o.ID, Name: o.Name, Kind: k, Last: last, DueBy: due})
			}
		}
	}
	return out, nil
}
