package core

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// Bulletin ranks the units of a jurisdiction (its townships, grids, or the
// departments events were dispatched to) by how they handled the events
// reported in a month: 按期办结率, then 结案率, 返工率, 延期率 and 满意率
// to break ties (rankBy puts one of them first), with the counts behind
// each. It reads the month's events through the search index and each
// one's timeline: seconds for a county's month, not a counter read.
func (ev *Events) Bulletin(jurisdiction, period, by, rankBy string) (*model.Bulletin, error) {
	if period == "" {
		return nil, errs.Invalid("period", "required", "name the month (YYYYMM)")
	}
	if err := state.CheckPeriod(period); err != nil {
		return nil, err
	}
	if !slices.Contains(model.BulletinUnits, by) {
		return nil, errs.Invalid("by", "enum", "by must be one of %v", model.BulletinUnits)
	}
	if rankBy == "" {
		rankBy = model.BulletinRates[0]
	}
	if !slices.Contains(model.BulletinRates, rankBy) {
		return nil, errs.Invalid("rank_by", "enum", "rank_by must be one of %v", model.BulletinRates)
	}
	from, _ := time.ParseInLocation("200601", period, workcal.CST)
	b := &model.Bulletin{Jurisdiction: jurisdiction, Period: period, By: by, RankBy: rankBy, Total: model.BulletinRow{Unit: jurisdiction}}
	rows := map[string]*model.BulletinRow{}
	err := ev.eachReported(SearchQuery{Under: jurisdiction, From: from, To: from.AddDate(0, 1, 0)},
		func(e *model.Event) bool { return unitOf(e, by) != "" }, // a department's: only what was dispatched
		func(e *model.Event, tl []model.TimelineEntry) {
			unit := unitOf(e, by)
			r := rows[unit]
			if r == nil {
				r = &model.BulletinRow{Unit: unit}
				rows[unit] = r
			}
			tally(r, e, tl)
			tally(&b.Total, e, tl)
		})
	if err != nil {
		return nil, err
	}
	b.Rows = make([]model.BulletinRow, 0, len(rows))
	for _, r := range rows {
		rates(r)
		r.Name = ev.unitName(r.Unit, by)
		b.Rows = append(b.Rows, *r)
	}
	rates(&b.Total)
	b.Total.Name = ev.unitName(jurisdiction, model.ByTownship)
	order := slices.Index(model.BulletinRates, rankBy)
	keys := append([]string{rankBy}, append(slices.Clone(model.BulletinRates[:order]), model.BulletinRates[order+1:]...)...)
	slices.SortFunc(b.Rows, func(x, y model.BulletinRow) int {
		for _, k := range keys {
			if c := compareRate(k, x, y); c != 0 {
				return c
			}
		}
		return strings.Compare(x.Unit, y.Unit)
	})
	for i := range b.Rows {
		b.Rows[i].Rank = i + 1
		if i > 0 && sameRates(b.Rows[i], b.Rows[i-1]) {
			b.Rows[i].Rank = b.Rows[i-1].Rank // a tie shares its rank
		}
	}
	return b, nil
}

// unitOf is the unit an event counts for.
func unitOf(e *model.Event, by string) string {
	switch by {
	case model.ByTownship:
		if len(e.Jurisdiction) >= 9 {
			return e.Jurisdiction[:9]
		}
		return e.Jurisdiction
	case model.ByGrid:
		return cmp.Or(e.Grid, e.Jurisdiction) // no grid: the village itself
	}
	if strings.HasPrefix(e.Handler, "dept:") {
		return e.Handler
	}
	return ""
}

func (ev *Events) unitName(unit, by string) string {
	switch by {
	case model.ByGrid:
		if g, err := ev.s.Grids.Get(unit); err == nil {
			return g.Name
		}
	case model.ByDepartment:
		return strings.TrimPrefix(unit, "dept:")
	}
	if j, err := ev.s.Jurisdictions.Get(unit); err == nil {
		return j.Name
	}
	return unit
}

// tally counts one event into a row.
func tally(r *model.BulletinRow, e *model.Event, tl []model.TimelineEntry) {
	r.Reported++
	if e.Status == model.StatusRejected || e.Status == model.StatusMerged {
		return
	}
	r.Counted++
	if e.Status == model.StatusClosed {
		r.Closed++
		if !e.ClosedAt.After(e.Deadline) {
			r.ClosedInTime++
		}
	}
	var reworked, extended bool
	for _, te := range tl {
		switch te.Action {
		case "extend":
			extended = true
		case "verify":
			reworked = reworked || te.To == model.StatusInProgress // sent back by 核查
		case "rate":
			r.Rated++
			if te.Data["satisfaction"] != "unsatisfied" {
				r.Satisfied++
			}
			reworked = reworked || te.To == model.StatusInProgress // reopened by 回访
		}
	}
	if reworked {
		r.Reworked++
	}
	if extended {
		r.Extended++
	}
}

func rates(r *model.BulletinRow) {
	r.OnTimeRate = model.Ratio(r.ClosedInTime, r.Closed)
	r.ClosureRate = model.Ratio(r.Closed, r.Counted)
	r.ReworkRate = model.Ratio(r.Reworked, r.Counted)
	r.ExtensionRate = model.Ratio(r.Extended, r.Counted)
	r.SatisfactionRate = model.Ratio(r.Satisfied, r.Rated)
}

// eachReported calls fn with each event q finds (oldest first) that keep
// says yes to, with its timeline: the walk the 通报 and range figures make.
func (ev *Events) eachReported(q SearchQuery, keep func(*model.Event) bool, fn func(*model.Event, []model.TimelineEntry)) error {
	q.Oldest, q.Limit = true, 500
	for {
		page, err := ev.Search(q)
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if keep != nil && !keep(e) {
				continue
			}
			e, tl, err := ev.s.engine.EventDetail(e.ID)
			if err != nil {
				return err
			}
			fn(e, tl)
		}
		if page.Next == "" {
			return nil
		}
		q.After = page.Next
	}
}

// compareRate orders two rows by one rate, better first: higher for
// on-time, closure and satisfaction, lower for rework and extension.
func compareRate(rate string, x, y model.BulletinRow) int {
	switch rate {
	case "on_time":
		return cmp.Compare(y.OnTimeRate, x.OnTimeRate)
	case "closure":
		return cmp.Compare(y.ClosureRate, x.ClosureRate)
	case "rework":
		return cmp.Compare(x.ReworkRate, y.ReworkRate)
	case "extension":
		return cmp.Compare(x.ExtensionRate, y.ExtensionRate)
	}
	return cmp.Compare(y.SatisfactionRate, x.SatisfactionRate)
}

func sameRates(x, y model.BulletinRow) bool {
	for _, k := range model.BulletinRates {
		if compareRate(k, x, y) != 0 {
			return false
		}
	}
	return true
}
