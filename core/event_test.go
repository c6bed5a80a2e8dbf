package core

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/core/workcal"
)

func gridCentre(t *testing.T, e *env, code string) model.Point {
	g, err := e.Grids.Get(code)
	if err != nil {
		t.Fatal(err)
	}
	r := g.Geometry[0]
	return model.Point{Lng: (r[0][0] + r[2][0]) / 2, Lat: (r[0][1] + r[2][1]) / 2}
}

func TestEventLifecycleAndFigures(t *testing.T) {
	e := newEnv(t, true)
	e.withCounty(t)
	grid := "511083001001001"
	loc := gridCentre(t, e, grid)
	ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "邻里噪音纠纷", Location: &loc, Source: "resident"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Grid != grid || ev.Jurisdiction != "511083001001" || ev.Status != model.StatusReported {
		t.Fatalf("report landed wrong: %+v", ev)
	}
	if !strings.HasPrefix(ev.ID, "511083001-20261123-") || !strings.HasSuffix(ev.ID, "000001") {
		t.Fatalf("event number %s", ev.ID)
	}
	// Reported Monday 09:00 CST: one working day to accept, five to resolve.
	if want := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC); ev.AcceptBy.Sub(want).Abs() > time.Minute {
		t.Fatalf("accept by %s, want %s", ev.AcceptBy, want)
	}
	if want := time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC); ev.Deadline.Sub(want).Abs() > time.Minute {
		t.Fatalf("deadline %s, want %s", ev.Deadline, want)
	}
	yes := true
	steps := []model.Action{
		{Action: "accept"},
		{Action: "dispatch", Handler: "司法所"},
		{Action: "sign"},
		{Action: "resolve", Note: "已调解"},
		{Action: "verify", Passed: &yes},
		{Action: "rate", Satisfaction: "satisfied"},
	}
	want := []model.Status{model.StatusAccepted, model.StatusDispatched, model.StatusInProgress, model.StatusResolved, model.StatusClosed, model.StatusClosed}
	for i, a := range steps {
		ev, err = e.Events.Act(e.ctx, ev.ID, a)
		if err != nil {
			t.Fatalf("%s: %v", a.Action, err)
		}
		if ev.Status != want[i] {
			t.Fatalf("%s: status %s, want %s", a.Action, ev.Status, want[i])
		}
	}
	tl, err := e.Events.Timeline(ev.ID)
	if err != nil || len(tl) != 7 || tl[0].Action != "report" || tl[6].Data["satisfaction"] != "satisfied" || tl[1].Actor != "tester" {
		t.Fatalf("timeline: %+v %v", tl, err)
	}
	for _, scope := range []string{"511083", "511083001", "511000", "510000"} {
		f, err := e.Events.Figures(scope, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if f.Reported != 1 || f.ByStatus[model.StatusClosed] != 1 || f.ResponseRate != 1 || f.ResolutionRate != 1 || f.SatisfactionRate != 1 {
			t.Fatalf("%s figures: %+v", scope, f)
		}
	}
	if f, _ := e.Events.Figures("511083", "202611", "dispute"); f.Reported != 1 {
		t.Fatalf("period/category figures: %+v", f)
	}
	if f, _ := e.Events.Figures("511083", "202611", "sanitation"); f.Reported != 0 {
		t.Fatalf("other category counted: %+v", f)
	}
	if f, _ := e.Events.GridFigures(grid, ""); f.Reported != 1 || f.ByStatus[model.StatusClosed] != 1 {
		t.Fatalf("grid figures: %+v", f)
	}
	// Retired code resolves: 511028 (隆昌县) is 511083.
	if f, err := e.Events.Figures("511028", "", ""); err != nil || f.Scope != "511083" || f.Reported != 1 {
		t.Fatalf("alias figures: %+v %v", f, err)
	}
}

func TestIllegalActionsAreTypedAndChangeNothing(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"})
	if err != nil {
		t.Fatal(err)
	}
	before := mustDigest(t, e.Engine())
	no := false
	for _, a := range []model.Action{{Action: "sign"}, {Action: "resolve"}, {Action: "verify", Passed: &no},
		{Action: "rate", Satisfaction: "satisfied"}, {Action: "resume"}, {Action: "return", Reason: "x"}} {
		_, err := e.Events.Act(e.ctx, ev.ID, a)
		if !errors.Is(err, errs.ErrIllegalTransition) || !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("%s from reported: want illegal transition, got %v", a.Action, err)
		}
	}
	if _, err := e.Events.Act(e.ctx, ev.ID, model.Action{Action: "self_resolve"}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("self_resolve of a dispute must be refused: %v", err)
	}
	if _, err := e.Events.Act(e.ctx, "nope", model.Action{Action: "accept"}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("unknown event: %v", err)
	}
	if after := mustDigest(t, e.Engine()); after != before {
		t.Fatal("rejected actions changed the state")
	}
}

func TestBadReportsAreTypedAndChangeNothing(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	before := mustDigest(t, e.Engine())
	cases := []struct {
		r     model.Report
		field string
		kind  error
	}{
		{model.Report{Description: "x", Grid: "511083001001001"}, "category", errs.ErrInvalid},
		{model.Report{Category: "nope", Description: "x", Grid: "511083001001001"}, "category", errs.ErrInvalid},
		{model.Report{Category: "dispute", Grid: "511083001001001"}, "description", errs.ErrInvalid},
		{model.Report{Category: "dispute", Description: "x"}, "location", errs.ErrInvalid},
		{model.Report{Category: "dispute", Description: "x", Location: &model.Point{Lng: 200, Lat: 29}}, "location.lng", errs.ErrInvalid},
		{model.Report{Category: "dispute", Description: "x", Location: &model.Point{Lng: 116.4, Lat: 39.9}}, "location", errs.ErrInvalid},
		{model.Report{Category: "dispute", Description: "x", Grid: "511083001001999"}, "grid", errs.ErrNotFound},
		{model.Report{Category: "dispute", Description: "x", Jurisdiction: "999999"}, "code", errs.ErrNotFound},
		{model.Report{Category: "dispute", Description: "x", Jurisdiction: "510000"}, "jurisdiction", errs.ErrInvalid},
		{model.Report{Category: "dispute", Description: "x", Grid: "511083001001001", Urgency: "whenever"}, "urgency", errs.ErrInvalid},
		{model.Report{Category: "dispute", Description: strings.Repeat("长", model.MaxDescription+1), Grid: "511083001001001"}, "description", errs.ErrInvalid},
	}
	for i, c := range cases {
		_, err := e.Events.Report(e.ctx, c.r)
		if !errors.Is(err, c.kind) || errs.Field(err) != c.field {
			t.Errorf("case %d: want %v on %q, got %v", i, c.kind, c.field, err)
		}
	}
	if after := mustDigest(t, e.Engine()); after != before {
		t.Fatal("rejected reports changed the state")
	}
}

func TestSuspendPausesTheClockAndSweepMarksOverdue(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	// Holiday on Wednesday 2026-11-25.
	if err := e.Events.SetCalendar(e.ctx, workcal.Calendar{Holidays: []string{"2026-11-25"}}); err != nil {
		t.Fatal(err)
	}
	ev, _ := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001", Urgency: model.UrgencyUrgent})
	// Urgent: 2 working days from Mon 09:00 skipping Wed → Thu 09:00 CST.
	if want := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC); ev.Deadline.Sub(want).Abs() > time.Minute {
		t.Fatalf("deadline %s, want %s", ev.Deadline, want)
	}
	ev, _ = e.Events.Act(e.ctx, ev.ID, model.Action{Action: "accept"})
	ev, err := e.Events.Act(e.ctx, ev.ID, model.Action{Action: "suspend", Reason: "等待鉴定"})
	if err != nil || ev.Status != model.StatusSuspended {
		t.Fatalf("suspend: %v %v", ev, err)
	}
	// Suspended events are not swept.
	if n, _ := e.Events.Sweep(e.ctx, time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)); n != 0 {
		t.Fatalf("swept %d suspended events", n)
	}
	// Resume one working day later (Tue 09:00 CST): deadline moves by a working day, skipping the holiday.
	e.clock.Set(time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC))
	ev, err = e.Events.Act(e.ctx, ev.ID, model.Action{Action: "resume"})
	if err != nil || ev.Status != model.StatusAccepted {
		t.Fatalf("resume: %+v %v", ev, err)
	}
	if want := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC); ev.Deadline.Sub(want).Abs() > time.Minute {
		t.Fatalf("deadline after resume %s, want %s", ev.Deadline, want)
	}
	if n, err := e.Events.Sweep(e.ctx, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)); n != 0 || err != nil {
		t.Fatalf("swept before the deadline: %d %v", n, err)
	}
	e.clock.Set(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC))
	if n, err := e.Events.Sweep(e.ctx, e.clock.Now()); n != 1 || err != nil {
		t.Fatalf("sweep after the deadline: %d %v", n, err)
	}
	if n, _ := e.Events.Sweep(e.ctx, e.clock.Now()); n != 0 {
		t.Fatal("an event was marked overdue twice")
	}
	p, _ := e.Events.List(model.Query{Jurisdiction: "511083", Overdue: true})
	if len(p.Events) != 1 || !p.Events[0].Overdue {
		t.Fatalf("overdue listing: %+v", p)
	}
	if f, _ := e.Events.Figures("511083", "", ""); f.Overdue != 1 {
		t.Fatalf("overdue counter %d", f.Overdue)
	}
}

func TestMergeSuperviseEscalateSelfResolve(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	r := model.Report{Category: "sanitation", Description: "垃圾堆放", Grid: "511083001001002"}
	a, _ := e.Events.Report(e.ctx, r)
	b, _ := e.Events.Report(e.ctx, r)
	c, _ := e.Events.Report(e.ctx, r)
	if _, err := e.Events.Act(e.ctx, b.ID, model.Action{Action: "merge", Into: b.ID}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("self merge: %v", err)
	}
	m, err := e.Events.Act(e.ctx, b.ID, model.Action{Action: "merge", Into: a.ID})
	if err != nil || m.Status != model.StatusMerged || m.MergedInto != a.ID {
		t.Fatalf("merge: %+v %v", m, err)
	}
	if got, _ := e.Events.Get(a.ID); len(got.Merged) != 1 || got.Merged[0] != b.ID {
		t.Fatalf("target does not list the merged event: %+v", got)
	}
	if _, err := e.Events.Act(e.ctx, c.ID, model.Action{Action: "merge", Into: b.ID}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("merge into a merged event: %v", err)
	}
	s, _ := e.Events.Act(e.ctx, a.ID, model.Action{Action: "supervise", Note: "请加快"})
	if s.Supervised != 1 || s.Priority != 1 {
		t.Fatalf("first supervise: %+v", s)
	}
	s, _ = e.Events.Act(e.ctx, a.ID, model.Action{Action: "supervise", Note: "再次督办"})
	if s.Supervised != 2 || s.Priority != 2 {
		t.Fatalf("supervise: %+v", s)
	}
	// With no tier above, escalating is refused and changes nothing.
	before := mustDigest(t, e.Engine())
	if _, err := e.Events.Act(e.ctx, a.ID, model.Action{Action: "escalate"}); !errors.Is(err, errs.ErrConflict) || errs.Field(err) != "action" || !strings.Contains(err.Error(), "no tier above") {
		t.Fatalf("escalate with no parent: %v", err)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("a refused escalation changed the state")
	}
	e.withParent(t)
	if x, err := e.Events.Act(e.ctx, a.ID, model.Action{Action: "escalate"}); err != nil || x.Status != model.StatusEscalated || x.EscalatedTo != "511000" {
		t.Fatalf("escalate: %+v %v", x, err)
	}
	if x, err := e.Events.Act(e.ctx, c.ID, model.Action{Action: "self_resolve"}); err != nil || x.Status != model.StatusClosed {
		t.Fatalf("self_resolve: %v", err)
	}
	f, _ := e.Events.Figures("511083001001", "", "")
	if f.Supervised != 1 || f.Merged != 1 || f.SelfResolved != 1 || f.ByStatus[model.StatusEscalated] != 1 || f.ByStatus[model.StatusMerged] != 1 {
		t.Fatalf("figures: %+v", f)
	}
}

func TestUnsatisfiedRatingReopens(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	ev, _ := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"})
	yes := true
	for _, a := range []model.Action{{Action: "accept"}, {Action: "dispatch", Handler: "h"}, {Action: "sign"}, {Action: "resolve"}, {Action: "verify", Passed: &yes}} {
		if _, err := e.Events.Act(e.ctx, ev.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	ev, _ = e.Events.Act(e.ctx, ev.ID, model.Action{Action: "rate", Satisfaction: "unsatisfied"})
	if ev.Status != model.StatusInProgress {
		t.Fatalf("unsatisfied must reopen, got %s", ev.Status)
	}
	e.Events.Act(e.ctx, ev.ID, model.Action{Action: "resolve"})
	e.Events.Act(e.ctx, ev.ID, model.Action{Action: "verify", Passed: &yes})
	ev, err := e.Events.Act(e.ctx, ev.ID, model.Action{Action: "rate", Satisfaction: "basically_satisfied"})
	if err != nil || ev.Status != model.StatusClosed {
		t.Fatalf("second rating: %v", err)
	}
	if _, err := e.Events.Act(e.ctx, ev.ID, model.Action{Action: "rate", Satisfaction: "satisfied"}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("double rating: %v", err)
	}
	f, _ := e.Events.Figures("511083", "", "")
	if f.Rated != 2 || f.Satisfied != 1 || f.SatisfactionRate != 0.5 {
		t.Fatalf("figures: %+v", f)
	}
}

func TestListFiltersAndPagination(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	grids := []string{"511083001001001", "511083001001002", "511083002001001"}
	var reports []model.Report
	for i := 0; i < 90; i++ {
		cat := "dispute"
		if i%3 == 0 {
			cat = "sanitation"
		}
		reports = append(reports, model.Report{Category: cat, Description: "x", Grid: grids[i%3]})
	}
	if n, err := e.Events.Import(e.ctx, reports, nil); n != 90 || err != nil {
		t.Fatal(n, err)
	}
	p, _ := e.Events.List(model.Query{Jurisdiction: "511083001", Limit: 500})
	if len(p.Events) != 60 {
		t.Fatalf("township listing: %d", len(p.Events))
	}
	township := p.Events
	// Page through one grid 7 at a time.
	seen := map[string]bool{}
	q := model.Query{Grid: "511083001001002", Status: model.StatusReported, Limit: 7}
	for pages := 0; ; pages++ {
		p, err := e.Events.List(q)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range p.Events {
			if seen[ev.ID] || ev.Grid != q.Grid {
				t.Fatalf("duplicate or foreign event %s", ev.ID)
			}
			seen[ev.ID] = true
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if len(seen) != 30 {
		t.Fatalf("paged %d events, want 30", len(seen))
	}
	p, _ = e.Events.List(model.Query{Jurisdiction: "511083", Category: "sanitation", Limit: 500})
	if len(p.Events) != 30 {
		t.Fatalf("category listing: %d", len(p.Events))
	}
	// Spread the township's events over three statuses, then page through
	// it unfiltered: the status ranges merge back into place order.
	for i, ev := range township {
		var acts []string
		switch i % 3 {
		case 1:
			acts = []string{"accept"}
		case 2:
			acts = []string{"accept", "dispatch"}
		}
		for _, a := range acts {
			if _, err := e.Events.Act(e.ctx, ev.ID, model.Action{Action: a, Handler: "城管"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var paged []*model.Event
	for q := (model.Query{Jurisdiction: "511083001", Limit: 7}); ; {
		p, err := e.Events.List(q)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, p.Events...)
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if len(paged) != 60 {
		t.Fatalf("paged the township unfiltered: %d events, want 60", len(paged))
	}
	statuses := map[model.Status]bool{}
	for i, ev := range paged {
		statuses[ev.Status] = true
		if i > 0 && ev.Grid+"/"+ev.ID <= paged[i-1].Grid+"/"+paged[i-1].ID {
			t.Fatalf("out of place order at %d: %s/%s after %s/%s", i, ev.Grid, ev.ID, paged[i-1].Grid, paged[i-1].ID)
		}
	}
	if len(statuses) != 3 {
		t.Fatalf("listing covers statuses %v", statuses)
	}
	if _, err := e.Events.List(model.Query{Grid: "511083001001002", After: "garbage!"}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
	if _, err := e.Events.List(model.Query{Status: "lost"}); errs.Field(err) != "status" {
		t.Fatalf("bad status: %v", err)
	}
}

// The hand-built event number prefix agrees with time.Format, across the
// China-time day boundary and for short and long division codes.
func TestEventNumberPrefixMatchesFormat(t *testing.T) {
	cases := []struct {
		jur string
		at  time.Time
	}{
		{"511083", time.Date(2026, 11, 23, 15, 59, 59, 0, time.UTC)},
		{"511083", time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)}, // 00:00 next day in CST
		{"511083001001001", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"500110102", time.Date(1999, 12, 31, 16, 0, 0, 0, time.UTC)},
		{"50", time.Date(10000, 3, 9, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		area := (c.jur + "000000000")[:9]
		want := area + "-" + c.at.In(workcal.CST).Format("20060102")
		if got := state.EventNumberPrefix(c.jur, c.at); got != want {
			t.Errorf("eventNumberPrefix(%s, %v) = %s, want %s", c.jur, c.at, got, want)
		}
	}
}

// An event and its timeline come from one read: while comments land, every
// detail read has exactly rev timeline entries.
func TestEventDetailIsOneRead(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		var err error
		for i := 0; i < 200 && err == nil; i++ {
			_, err = e.Events.Act(e.ctx, ev.ID, model.Action{Action: "comment", Note: "备注"})
		}
		done <- err
	}()
	for reads := 0; ; reads++ {
		got, tl, err := e.Events.Detail(ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(tl) != got.Rev {
			t.Fatalf("read %d: rev %d with %d timeline entries", reads, got.Rev, len(tl))
		}
		if got.Rev == 201 {
			break
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Events.Detail("nope"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("missing event: %v", err)
	}
}

// A report's extension fields are kept on the event; bad ones are refused
// before proposing and change nothing.
func TestReportExtensionFields(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	ext := map[string]json.RawMessage{"qijiang.risk": json.RawMessage(`{"level":2}`), "points": json.RawMessage(`5`)}
	ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001", Ext: ext})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Events.Get(ev.ID)
	if err != nil || !reflect.DeepEqual(got.Ext, ext) {
		t.Fatalf("ext: %v %v", got.Ext, err)
	}
	before, n := mustDigest(t, e.Engine()), len(e.rec.data)
	for name, bad := range map[string]map[string]json.RawMessage{
		"a bad name":  {"no spaces": json.RawMessage(`1`)},
		"not JSON":    {"x": json.RawMessage(`{`)},
		"too long":    {"x": json.RawMessage(`"` + strings.Repeat("长", model.MaxExtValue/3+1) + `"`)},
		"empty value": {"x": nil},
	} {
		_, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001", Ext: bad})
		if !errors.Is(err, errs.ErrInvalid) || !strings.HasPrefix(errs.Field(err), "ext") {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if mustDigest(t, e.Engine()) != before || len(e.rec.data) != n {
		t.Fatal("refused extension fields changed the state")
	}
}

// A report naming a grid and a location that lies outside it is refused,
// naming both, and changes nothing; when they agree it is taken.
func TestReportGridAndLocationMustAgree(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	inside := gridCentre(t, e, "511083001001001")
	elsewhere := gridCentre(t, e, "511083002001001")
	before := mustDigest(t, e.Engine())
	_, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001", Location: &elsewhere})
	if !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "grid" || !strings.Contains(err.Error(), "location") {
		t.Fatalf("a location outside the grid: %v", err)
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("a refused report changed the state")
	}
	if ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "x", Grid: "511083001001001", Location: &inside}); err != nil || ev.Grid != "511083001001001" {
		t.Fatalf("a location inside the grid: %+v %v", ev, err)
	}
}
