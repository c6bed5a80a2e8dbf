package api

import (
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/workcal"
)

// The deadline table, the calendar with its 调休 days and local categories
// are set over the API by a center_admin, take effect on new reports, and
// bad input is refused naming the field and changes nothing (issue 24).
func TestConfigOverTheAPI(t *testing.T) {
	f := newFixture(t)
	var sla model.SLAConfig
	if resp, _ := f.do("GET", "/api/v1/config/sla", f.town, nil, &sla); resp.StatusCode != 200 || sla.Default[model.UrgencyNormal].ResolveMinutes != 5*model.WorkDay {
		t.Fatalf("the default table: %d %+v", resp.StatusCode, sla)
	}
	before := f.digest()
	resp, m := f.do("PUT", "/api/v1/config/sla", f.admin, map[string]any{"default": map[string]any{"normal": map[string]any{"accept_minutes": 60, "resolve_minutes": 120}}}, nil)
	if resp.StatusCode != 400 || f.digest() != before {
		t.Fatalf("a table without every urgency: %d %v", resp.StatusCode, m)
	}
	resp, m = f.do("PUT", "/api/v1/config/sla", f.town, map[string]any{"default": map[string]any{}}, nil)
	expectProblem(t, "a township sets the table", resp, m, 403, "role")
	table := map[string]any{"default": map[string]any{
		"normal":   map[string]any{"accept_minutes": 60, "resolve_minutes": 3 * model.WorkDay},
		"urgent":   map[string]any{"accept_minutes": 30, "resolve_minutes": model.WorkDay},
		"critical": map[string]any{"accept_minutes": 10, "resolve_minutes": 240},
	}}
	if resp, m := f.do("PUT", "/api/v1/config/sla", f.admin, table, &sla); resp.StatusCode != 200 || sla.Default[model.UrgencyNormal].ResolveMinutes != 3*model.WorkDay {
		t.Fatalf("set the table: %d %v", resp.StatusCode, m)
	}
	// 调休: a weekday off and a Saturday worked.
	resp, m = f.do("PUT", "/api/v1/config/calendar", f.admin, map[string]any{"holidays": []string{"2026-13-01"}}, nil)
	expectProblem(t, "a holiday that is no date", resp, m, 400, "holidays[0]")
	var cal workcal.Calendar
	if resp, m := f.do("PUT", "/api/v1/config/calendar", f.admin, map[string]any{"holidays": []string{"2026-12-31"}, "workdays": []string{"2026-12-26"}}, &cal); resp.StatusCode != 200 || len(cal.Workdays) != 1 {
		t.Fatalf("set the calendar: %d %v", resp.StatusCode, m)
	}
	if resp, _ := f.do("GET", "/api/v1/config/calendar", f.town, nil, &cal); resp.StatusCode != 200 || cal.Holidays[0] != "2026-12-31" || cal.Workdays[0] != "2026-12-26" {
		t.Fatalf("the calendar: %+v", cal)
	}
	// A new report's deadline follows the new table.
	var ev model.Event
	if resp, m := f.do("POST", "/api/v1/events", f.admin, map[string]any{"category": "dispute", "description": "新时限", "grid": "511083001001001"}, &ev); resp.StatusCode != 201 {
		t.Fatalf("report: %d %v", resp.StatusCode, m)
	}
	if ev.AcceptBy.Sub(ev.ReportedAt) > 3*time.Hour*24 || ev.Deadline.Sub(ev.ReportedAt) < 3*24*time.Hour {
		t.Fatalf("the deadlines do not follow the table: reported %s, accept by %s, deadline %s", ev.ReportedAt, ev.AcceptBy, ev.Deadline)
	}
	// Local categories.
	var cat model.Category
	if resp, m := f.do("POST", "/api/v1/categories", f.admin, map[string]any{"code": "river_patrol", "number": "L01", "name": "河道巡查"}, &cat); resp.StatusCode != 201 || cat.Source != "local" {
		t.Fatalf("add a category: %d %v", resp.StatusCode, m)
	}
	resp, m = f.do("POST", "/api/v1/categories", f.admin, map[string]any{"code": "dispute", "number": "01", "name": "x"}, nil)
	expectProblem(t, "a national code", resp, m, 409, "code")
	var cats categoriesView
	f.do("GET", "/api/v1/categories", f.town, nil, &cats)
	if last := cats.Categories[len(cats.Categories)-1]; last.Code != "river_patrol" {
		t.Fatalf("the categories: %+v", last)
	}
}
