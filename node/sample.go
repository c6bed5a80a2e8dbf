package node

import (
	"context"
	"fmt"
	"math/rand"
	"time"

	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/divisions"
	"github.com/fengqiao/fengqiao/core/idcard"
	"github.com/fengqiao/fengqiao/core/model"
)

// seedSample loads a county with derived grids and adds clearly synthetic
// sample data: workers, party organisations, residents (with generated ID
// numbers that pass the checks but belong to nobody), special-population
// records, and events in every state. The random source is seeded, so two
// dev runs hold the same data.
func seedSample(ctx context.Context, s *core.Store, county string) (*divisions.Derived, error) {
	d, err := s.Jurisdictions.LoadCounty(ctx, county, 2)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, fmt.Errorf("node: no boundary shipped for %s", county)
	}
	rng := rand.New(rand.NewSource(1))
	towns, err := s.Jurisdictions.Children(county)
	if err != nil {
		return nil, err
	}
	// One party committee per township with a branch on its first village's grids.
	for i, town := range towns {
		org := fmt.Sprintf("org-%s", town.Code)
		if _, err := s.Party.PutOrg(ctx, model.Org{ID: org, Name: town.Name + "党委", Kind: model.OrgCommittee, Jurisdiction: town.Code}); err != nil {
			return nil, err
		}
		villages, _ := s.Jurisdictions.Children(town.Code)
		if len(villages) == 0 || i%3 == 2 { // leave some uncovered for the coverage report
			continue
		}
		v := villages[0]
		var grids []string
		for _, g := range d.Grids {
			if g.Village == v.Code {
				grids = append(grids, g.Code)
			}
		}
		if _, err := s.Party.PutOrg(ctx, model.Org{ID: "br-" + v.Code, Name: v.Name + "党支部", Kind: model.OrgBranch, Parent: org, Jurisdiction: v.Code, Grids: grids}); err != nil {
			return nil, err
		}
	}
	// Grid workers on the first grids.
	for i, g := range d.Grids[:20] {
		w := model.Worker{ID: fmt.Sprintf("w%03d", i), Name: fmt.Sprintf("网格员%03d", i), Jurisdiction: g.Village}
		if err := s.Grids.PutWorker(ctx, w); err != nil {
			return nil, err
		}
		if _, err := s.Grids.Assign(ctx, g.Code, w.ID, model.RoleFullTime); err != nil {
			return nil, err
		}
	}
	// Residents with synthetic ID numbers, some of them special populations.
	for i := 0; i < 30; i++ {
		g := d.Grids[rng.Intn(len(d.Grids))]
		first := fmt.Sprintf("%s%s%03d", county, time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.Intn(20000)).Format("20060102"), rng.Intn(1000))
		p, err := s.People.Add(ctx, model.PersonInput{Name: fmt.Sprintf("示例居民%02d", i), IDNumber: first + string(idcard.CheckDigit(first)),
			Kind: []string{"registered", "floating", "left_behind"}[i%3], Jurisdiction: g.Village, Grid: g.Code})
		if err != nil {
			return nil, err
		}
		if i%5 == 0 {
			if _, err := s.People.SetSpecial(ctx, p.ID, model.SpecialInput{Category: model.SpecialReleased, Level: 1 + i%3,
				Since: time.Now().AddDate(0, -3, 0), Details: model.SpecialDetails{ReleaseDate: "2025-06-01"}, Team: []string{"司法所", "网格员"}}); err != nil {
				return nil, err
			}
		}
	}
	// Events in every state.
	cats := []string{"dispute", "sanitation", "public_security", "work_safety", "urban_management"}
	yes := true
	flows := [][]model.Action{
		{},
		{{Action: "accept"}},
		{{Action: "accept"}, {Action: "dispatch", Handler: "综治办"}},
		{{Action: "accept"}, {Action: "dispatch", Handler: "城管中队"}, {Action: "sign"}},
		{{Action: "accept"}, {Action: "dispatch", Handler: "司法所"}, {Action: "sign"}, {Action: "resolve"}, {Action: "verify", Passed: &yes}, {Action: "rate", Satisfaction: "satisfied"}},
		{{Action: "reject", Reason: "不属于受理范围"}},
		{{Action: "accept"}, {Action: "supervise", Note: "群众反映强烈"}},
	}
	for i := 0; i < 120; i++ {
		g := d.Grids[rng.Intn(len(d.Grids))]
		ev, err := s.Events.Report(ctx, model.Report{Category: cats[rng.Intn(len(cats))], Description: fmt.Sprintf("示例事件 %d", i+1),
			Grid: g.Code, Source: []string{"grid_worker", "resident", "hotline_12345"}[i%3]})
		if err != nil {
			return nil, err
		}
		for _, a := range flows[i%len(flows)] {
			if _, err := s.Events.Act(ctx, ev.ID, a); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}
