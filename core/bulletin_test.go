package core

import (
	"errors"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

func TestBulletinRanksTownships(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	passed, failed := true, false
	flow := func(grid string, steps ...model.Action) *model.Event {
		t.Helper()
		ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "通报", Grid: grid})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range steps {
			if ev, err = e.Events.Act(e.ctx, ev.ID, a); err != nil {
				t.Fatalf("%s: %v", a.Action, err)
			}
		}
		return ev
	}
	handle := []model.Action{{Action: "accept"}, {Action: "dispatch", Handler: "城管局"}, {Action: "sign"}, {Action: "resolve"}}
	gA, gB := villageA+"001", villageB+"001"
	// A: one closed in time and rated satisfied; one sent back by 核查, then closed.
	flow(gA, append(handle, model.Action{Action: "verify", Passed: &passed}, model.Action{Action: "rate", Satisfaction: "satisfied"})...)
	flow(gA, append(handle, model.Action{Action: "verify", Passed: &failed}, model.Action{Action: "resolve"}, model.Action{Action: "verify", Passed: &passed})...)
	// B: one rejected (not counted), one still open.
	flow(gB, model.Action{Action: "reject", Reason: "重复"})
	flow(gB, model.Action{Action: "accept"})

	period := e.clock.Now().In(time.FixedZone("CST", 8*3600)).Format("200601")
	b, err := e.Events.Bulletin("511083", period, model.ByTownship, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 2 || b.Rows[0].Unit != townA || b.Rows[1].Unit != townB {
		t.Fatalf("ranking: %+v", b.Rows)
	}
	a, bb := b.Rows[0], b.Rows[1]
	if a.Rank != 1 || a.Reported != 2 || a.Closed != 2 || a.ClosedInTime != 2 || a.Reworked != 1 || a.ReworkRate != 0.5 || a.Rated != 1 || a.SatisfactionRate != 1 {
		t.Fatalf("A: %+v", a)
	}
	if bb.Rank != 2 || bb.Reported != 2 || bb.Counted != 1 || bb.Closed != 0 || bb.ClosureRate != 0 {
		t.Fatalf("B: %+v", bb)
	}
	if b.Total.Reported != 4 || b.Total.Closed != 2 || b.Total.Name == "" {
		t.Fatalf("total: %+v", b.Total)
	}
	// By department: only dispatched events count.
	d, err := e.Events.Bulletin("511083", period, model.ByDepartment, "rework")
	if err != nil || len(d.Rows) != 1 || d.Rows[0].Unit != "dept:城管局" || d.Rows[0].Name != "城管局" || d.Rows[0].Reported != 2 {
		t.Fatalf("by department: %+v %v", d, err)
	}
	// Another month holds nothing; bad input is refused by name.
	if empty, err := e.Events.Bulletin("511083", "202001", model.ByGrid, ""); err != nil || len(empty.Rows) != 0 {
		t.Fatalf("an empty month: %+v %v", empty, err)
	}
	for _, c := range []struct{ period, by, rank, field string }{
		{"", "township", "", "period"}, {"2026-11", "township", "", "period"}, {period, "village", "", "by"}, {period, "grid", "speed", "rank_by"},
	} {
		if _, err := e.Events.Bulletin("511083", c.period, c.by, c.rank); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != c.field {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
