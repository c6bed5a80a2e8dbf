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
	q := SearchQuery{Under: jurisdiction, From: from, To: from.AddDate(0, 1, 0), Oldest: true, Limit: 500}
	for {
		page, err := ev.Search(q)
		if err != nil {
			return nil, err
		}
		for _, e := range page.Events {
			unit := unitOf(e, by)
			if unit == "" {
				continue // never dispatched to a department
			}
			_, tl, err := ev.s.engine.EventDetail(e.ID)
			if err != nil {
				return nil, err
			}
			r := rows[unit]
			if r == nil {
				r = &model.BulletinRow{Unit: unit}
				rows[unit] = r
			}
			tally(r, e, tl)
			tally(&b.Total, e, tl)
		}
		if page.Next == "" {
			break
		}
		q.After = page.Next
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
		switch {
		case te.Action == "extend":
			extended = true
		case (te.Action == "verify" || te.Action == "rate") && te.To == model.StatusInProgress:
			reworked = true
		case te.Action == "rate":
			r.Rated++
			if te.Data["satisfaction"] != "unsatisfied" {
				r.Satisfied++
			}
		}
		if te.Action == "rate" && te.To == model.StatusInProgress {
			r.Rated++ // an unsatisfied rating counts as rated too
		}
	}
	if reworked {
		r.Reworked++
	}
	if extended {
		r.Extended++
	}
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func rates(r *model.BulletinRow) {
	r.OnTimeRate = ratio(r.ClosedInTime, r.Closed)
	r.ClosureRate = ratio(r.Closed, r.Counted)
	r.ReworkRate = ratio(r.Reworked, r.Counted)
	r.ExtensionRate = ratio(r.Extended, r.Counted)
	r.SatisfactionRate = ratio(r.Satisfied, r.Rated)
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
