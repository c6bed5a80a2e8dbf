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

// Open311Config is what anyone may read through Open311 without a key.
func (ev *Events) Open311Config() (model.Open311Config, error) { return ev.s.engine.Open311Config() }

// SetOpen311Config replaces it (an audited command).
func (ev *Events) SetOpen311Config(ctx context.Context, o model.Open311Config) (*model.Open311Config, error) {
	if o.PublicServices == nil {
		o.PublicServices = []string{}
	}
	return applyAs[*model.Open311Config](ctx, ev.s, "config.open311", "", o)
}
