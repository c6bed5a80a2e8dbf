package core

import (
	"context"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// SetCalendar replaces the working-day calendar used for deadlines.
func (ev *Events) SetCalendar(ctx context.Context, cal workcal.Calendar) error {
	if err := cal.Validate(); err != nil {
		return err
	}
	_, err := ev.s.apply(ctx, "config.calendar", "", cal)
	return err
}

// SetSLA replaces the deadline table.
func (ev *Events) SetSLA(ctx context.Context, c model.SLAConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	_, err := ev.s.apply(ctx, "config.sla", "", c)
	return err
}

// AddCategory adds a category (plugins use this).
func (ev *Events) AddCategory(ctx context.Context, c model.Category) (*model.Category, error) {
	if err := state.CheckCategory(c); err != nil {
		return nil, err
	}
	return applyAs[*model.Category](ctx, ev.s, "category.add", "", c)
}

// Categories lists the national base list followed by added categories.
func (ev *Events) Categories() ([]model.Category, error) {
	return ev.s.engine.Categories()
}

// SLA reads the deadline table in force.
func (ev *Events) SLA() (model.SLAConfig, error) { return ev.s.engine.SLAConfig() }

// Calendar reads the working-day calendar in force (holidays and 调休
// working days).
func (ev *Events) Calendar() (workcal.Calendar, error) { return ev.s.engine.Calendar() }
