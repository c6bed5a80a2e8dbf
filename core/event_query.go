package core

import (
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
)

// List returns events matching q in index order (by place, then id).
func (ev *Events) List(q model.Query) (model.Page, error) {
	return ev.s.engine.Events(q)
}

// Get returns one event.
func (ev *Events) Get(id string) (*model.Event, error) {
	return ev.s.engine.Event(id)
}

// Timeline returns every action on an event, oldest first.
func (ev *Events) Timeline(id string) ([]model.TimelineEntry, error) {
	return ev.s.engine.Timeline(id)
}

// dueBefore lists active, not yet overdue events whose deadline is before now.
func (ev *Events) dueBefore(now time.Time, limit int) ([]string, error) {
	return ev.s.engine.DueBefore(now, limit)
}

// Figures returns one jurisdiction's counters: one read, never a scan.
// period (YYYYMM) and category are optional.
func (ev *Events) Figures(jurisdiction, period, category string) (model.Figures, error) {
	if err := state.CheckPeriod(period); err != nil {
		return model.Figures{}, err
	}
	cur, err := ev.s.Jurisdictions.Resolve(jurisdiction)
	if err != nil {
		return model.Figures{}, err
	}
	return ev.s.engine.JurisdictionFigures(cur, period, category)
}

// GridFigures returns one grid's counters, all time or for one month.
func (ev *Events) GridFigures(grid, period string) (model.Figures, error) {
	if err := state.CheckPeriod(period); err != nil {
		return model.Figures{}, err
	}
	if _, err := ev.s.Grids.Get(grid); err != nil {
		return model.Figures{}, err
	}
	return ev.s.engine.GridFigures(grid, period)
}

// Detail returns an event and its timeline from one read, so the timeline
// always agrees with the event's rev.
func (ev *Events) Detail(id string) (*model.Event, []model.TimelineEntry, error) {
	return ev.s.engine.EventDetail(id)
}
