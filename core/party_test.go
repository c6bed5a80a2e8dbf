package core

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

func TestPartyTreeCoverageAndCompliance(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	mustOrg := func(o model.Org) {
		if _, err := e.Party.PutOrg(e.ctx, o); err != nil {
			t.Fatalf("%s: %v", o.ID, err)
		}
	}
	mustOrg(model.Org{ID: "c1", Name: "古湖街道党工委", Kind: model.OrgCommittee, Jurisdiction: "511083001"})
	mustOrg(model.Org{ID: "b1", Name: "大东街社区党支部", Kind: model.OrgBranch, Parent: "c1", Jurisdiction: "511083001001", Grids: []string{"511083001001001", "511083001001002"}})
	mustOrg(model.Org{ID: "g1", Name: "第一党小组", Kind: model.OrgGroup, Parent: "b1", Jurisdiction: "511083001001", Grids: []string{"511083001001003"}})
	before := mustDigest(t, e.Engine())
	for _, bad := range []struct {
		o     model.Org
		field string
	}{
		{model.Org{ID: "x", Name: "x", Kind: model.OrgCommittee, Parent: "g1", Jurisdiction: "511083001001"}, "kind"},
		{model.Org{ID: "x", Name: "x", Kind: model.OrgGroup, Jurisdiction: "511083001001"}, "parent"},
		{model.Org{ID: "x", Name: "x", Kind: model.OrgBranch, Parent: "c1", Jurisdiction: "511083002001"}, "jurisdiction"},
		{model.Org{ID: "x", Name: "x", Kind: model.OrgCommittee, Jurisdiction: "511083001", Grids: []string{"511083001001004"}}, "grids"},
		{model.Org{ID: "x", Name: "x", Kind: model.OrgBranch, Parent: "c1", Jurisdiction: "511083001002", Grids: []string{"511083001001004"}}, "grids[0]"},
		{model.Org{ID: "x y", Name: "x", Kind: model.OrgBranch, Jurisdiction: "511083001"}, "id"},
	} {
		if _, err := e.Party.PutOrg(e.ctx, bad.o); errs.Field(err) != bad.field {
			t.Errorf("org %+v: want field %s, got %v", bad.o, bad.field, err)
		}
	}
	if mustDigest(t, e.Engine()) != before {
		t.Fatal("rejected orgs changed the state")
	}
	for _, m := range []model.Member{{ID: "m1", Name: "党员甲", Org: "b1", Status: "full", Roles: []string{"secretary"}},
		{ID: "m2", Name: "党员乙", Org: "b1", Status: "probationary", DualReport: "511083001001"},
		{ID: "m3", Name: "党员丙", Org: "g1", Status: "full"}} {
		if _, err := e.Party.PutMember(e.ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Party.PutMember(e.ctx, model.Member{ID: "m4", Name: "x", Org: "b1", Status: "honorary"}); errs.Field(err) != "status" {
		t.Fatalf("bad status: %v", err)
	}
	// Coverage: village 511083001001 has 4 grids, 3 covered.
	unc, total, err := e.Party.Coverage("511083001001")
	if err != nil || total != 4 || len(unc) != 1 || unc[0] != "511083001001004" {
		t.Fatalf("coverage: %v of %d, %v", unc, total, err)
	}
	a, err := e.Party.RecordActivity(e.ctx, model.Activity{Org: "b1", Kind: "theme_day", Date: "2026-11-01", Topic: "学习", Attendees: []string{"m1"}})
	if err != nil || a.Absent != 1 {
		t.Fatalf("activity: %+v %v", a, err)
	}
	if _, err := e.Party.RecordActivity(e.ctx, model.Activity{Org: "b1", Kind: "theme_day", Date: "2026-11-02", Topic: "x", Attendees: []string{"m3"}}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("attendee from another org: %v", err)
	}
	if _, err := e.Party.RecordActivity(e.ctx, model.Activity{Org: "g1", Kind: "theme_day", Date: "2026-11-02", Topic: "x"}); errs.Field(err) != "kind" {
		t.Fatalf("group holding a branch activity: %v", err)
	}
	lapses, _ := e.Party.Compliance("511083001", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
	kinds := map[string]bool{}
	for _, l := range lapses {
		kinds[l.Org+"/"+l.Kind] = true
	}
	if kinds["b1/theme_day"] || !kinds["b1/branch_assembly"] || !kinds["g1/group_meeting"] {
		t.Fatalf("compliance: %+v", lapses)
	}
	lapses, _ = e.Party.Compliance("511083001", time.Date(2027, 1, 5, 0, 0, 0, 0, time.UTC))
	kinds = map[string]bool{}
	for _, l := range lapses {
		kinds[l.Org+"/"+l.Kind] = true
	}
	if !kinds["b1/theme_day"] {
		t.Fatal("a theme day two months ago should be overdue")
	}
}

// An activity recorded with a date still to come is planned, not held: it
// does not make the org compliant, and the one held before it counts.
// Activities list by date, a page at a time.
func TestPlannedActivityIsNotHeld(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	for _, o := range []model.Org{
		{ID: "c1", Name: "古湖街道党工委", Kind: model.OrgCommittee, Jurisdiction: "511083001"},
		{ID: "b1", Name: "大东街社区党支部", Kind: model.OrgBranch, Parent: "c1", Jurisdiction: "511083001001"},
	} {
		if _, err := e.Party.PutOrg(e.ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	lapsed := func(asOf time.Time) bool {
		t.Helper()
		ls, err := e.Party.Compliance("511083001001", asOf)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(ls, func(l model.Lapse) bool { return l.Org == "b1" && l.Kind == "theme_day" })
	}
	asOf := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	record := func(id, date string) {
		t.Helper()
		if _, err := e.Party.RecordActivity(e.ctx, model.Activity{ID: id, Org: "b1", Kind: "theme_day", Date: date, Topic: "主题党日", Attendees: []string{}}); err != nil {
			t.Fatal(err)
		}
	}
	record("planned", "2027-01-15")
	if !lapsed(asOf) {
		t.Fatal("a theme day planned for next month counts as held")
	}
	record("held", "2026-11-20")
	if lapsed(asOf) {
		t.Fatal("the theme day held last month does not count")
	}
	if !lapsed(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("more than a month after the last one held, the org is not shown behind")
	}
	record("older", "2026-10-01")
	page, next, err := e.Party.Activities("b1", "", 2)
	if err != nil || len(page) != 2 || page[0].ID != "older" || page[1].ID != "held" || next == "" {
		t.Fatalf("the first page: %+v %q %v", page, next, err)
	}
	if page, next, err = e.Party.Activities("b1", next, 2); err != nil || len(page) != 1 || page[0].ID != "planned" || next != "" {
		t.Fatalf("the second page: %+v %q %v", page, next, err)
	}
}
