package core

import (
	"time"

	"github.com/fengqiao/fengqiao/core/model"
)

// FiguresBetween counts the events reported in [from, to) under a
// jurisdiction or grid (and of category, when set) as the counters count a
// month's: where they stand now, from their records and timelines. It reads
// each event, so it is for reports (seconds for a county's month), not for
// dashboards, which read the counters.
func (ev *Events) FiguresBetween(under, category string, from, to time.Time) (model.Figures, error) {
	f := model.Figures{ByStatus: map[model.Status]int64{}}
	err := ev.eachReported(SearchQuery{Under: under, Category: category, From: from, To: to}, nil,
		func(e *model.Event, tl []model.TimelineEntry) { countEvent(&f, e, tl) })
	if err != nil {
		return model.Figures{}, err
	}
	sum := model.SumFigures(under, []model.Figures{f}) // the rates, as the counters' are worked out
	sum.Category = category
	return sum, nil
}

// countEvent adds one event to figures as the counters would have.
func countEvent(f *model.Figures, e *model.Event, tl []model.TimelineEntry) {
	f.Reported++
	f.ByStatus[e.Status]++
	if !e.AcceptedAt.IsZero() {
		f.Accepted++
		if !e.AcceptedAt.After(e.AcceptBy) {
			f.AcceptedInTime++
		}
	}
	switch e.Status {
	case model.StatusRejected:
		f.Rejected++
	case model.StatusMerged:
		f.Merged++
	}
	if e.Overdue {
		f.Overdue++
	}
	if e.Supervised > 0 {
		f.Supervised++
	}
	for _, te := range tl {
		switch te.Action {
		case "rate":
			f.Rated++
			if te.Data["satisfaction"] != "unsatisfied" {
				f.Satisfied++
			}
		case "self_resolve":
			f.SelfResolved++
		}
	}
}
