package core

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// walk pages through a listing limit at a time and returns every id in the
// order served, failing if the pages do not end.
func walk(t *testing.T, limit int, page func(after string, limit int) ([]string, string, error)) []string {
	t.Helper()
	var all []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		ids, next, err := page(after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) > limit {
			t.Fatalf("page of %d, limit %d", len(ids), limit)
		}
		all = append(all, ids...)
		if next == "" {
			return all
		}
		after = next
	}
}

// idsOf turns a listing of records into a listing of their ids, for walk.
func idsOf[T any](list func(after string, limit int) ([]T, string, error), id func(T) string) func(string, int) ([]string, string, error) {
	return func(after string, limit int) ([]string, string, error) {
		xs, next, err := list(after, limit)
		var ids []string
		for _, x := range xs {
			ids = append(ids, id(x))
		}
		return ids, next, err
	}
}

func TestListingsPageInKeyOrder(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	mustOrg := func(o model.Org) {
		t.Helper()
		if _, err := e.Party.PutOrg(e.ctx, o); err != nil {
			t.Fatalf("%s: %v", o.ID, err)
		}
	}
	// Two townships' orgs interleave by id; a page by place reads its own
	// township's through the place index.
	mustOrg(model.Org{ID: "t1", Name: "古湖街道党工委", Kind: model.OrgCommittee, Jurisdiction: "511083001"})
	mustOrg(model.Org{ID: "t2", Name: "另一街道党工委", Kind: model.OrgCommittee, Jurisdiction: "511083002"})
	var want1, want2 []string
	for i := 0; i < 7; i++ {
		mustOrg(model.Org{ID: fmt.Sprintf("b%d-1", i), Name: "支部", Kind: model.OrgBranch, Parent: "t1", Jurisdiction: "511083001"})
		mustOrg(model.Org{ID: fmt.Sprintf("b%d-2", i), Name: "支部", Kind: model.OrgBranch, Parent: "t2", Jurisdiction: "511083002"})
		want1, want2 = append(want1, fmt.Sprintf("b%d-1", i)), append(want2, fmt.Sprintf("b%d-2", i))
	}
	want1, want2 = append(want1, "t1"), append(want2, "t2")
	for i := 0; i < 5; i++ {
		for _, org := range []string{"b0-1", "b1-1"} {
			if _, err := e.Party.PutMember(e.ctx, model.Member{ID: fmt.Sprintf("m%d-%s", i, org), Name: "党员", Org: org, Status: "full"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	orgIDs := func(under string) func(string, int) ([]string, string, error) {
		return idsOf(func(after string, limit int) ([]model.Org, string, error) { return e.Party.Orgs(under, after, limit) }, func(o model.Org) string { return o.ID })
	}
	for _, limit := range []int{1, 2, 3, 8, 100} {
		if got := walk(t, limit, orgIDs("511083001")); !slices.Equal(got, want1) {
			t.Fatalf("orgs under 511083001, pages of %d: %v, want %v", limit, got, want1)
		}
	}
	// The county lists by jurisdiction code, then id.
	if got, want := walk(t, 4, orgIDs("511083")), append(slices.Clone(want1), want2...); !slices.Equal(got, want) {
		t.Fatalf("orgs under the county: %v, want %v", got, want)
	}
	// An org that moves to the other township leaves the first's listing.
	mustOrg(model.Org{ID: "b6-1", Name: "支部", Kind: model.OrgBranch, Parent: "t2", Jurisdiction: "511083002"})
	if got := walk(t, 3, orgIDs("511083001")); !slices.Equal(got, slices.Delete(slices.Clone(want1), 6, 7)) {
		t.Fatalf("orgs under 511083001 after b6-1 moved: %v", got)
	}
	if got := walk(t, 3, orgIDs("511083002")); !slices.Contains(got, "b6-1") || len(got) != 9 {
		t.Fatalf("orgs under 511083002 after b6-1 moved: %v", got)
	}
	// A cursor from one township's listing is refused by the other's.
	if _, other, err := e.Party.Orgs("511083002", "", 2); err != nil || other == "" {
		t.Fatalf("511083002 first page: %q %v", other, err)
	} else if _, _, err := e.Party.Orgs("511083001", other, 2); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "cursor" {
		t.Errorf("orgs under 511083001 with 511083002's cursor: %v", err)
	}

	members := func(org string) func(string, int) ([]string, string, error) {
		return idsOf(func(after string, limit int) ([]model.Member, string, error) {
			return e.Party.Members(org, after, limit)
		}, func(m model.Member) string { return m.ID })
	}
	got := walk(t, 2, members("b0-1"))
	want := []string{"m0-b0-1", "m1-b0-1", "m2-b0-1", "m3-b0-1", "m4-b0-1"}
	if !slices.Equal(got, want) {
		t.Fatalf("members of b0-1: %v, want %v", got, want)
	}
	// A cursor belongs to its listing: one from b1-1's members, or garbage,
	// is refused rather than read from wherever it points.
	_, other, err := e.Party.Members("b1-1", "", 2)
	if err != nil || other == "" {
		t.Fatalf("b1-1 first page: %q %v", other, err)
	}
	for _, bad := range []string{other, "!!", "%%%"} {
		if _, _, err := e.Party.Members("b0-1", bad, 2); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "cursor" {
			t.Errorf("members with cursor %q: %v", bad, err)
		}
	}
	if _, _, err := e.Party.Orgs("511083001", "!!", 2); errs.Field(err) != "cursor" {
		t.Errorf("orgs with a bad cursor: %v", err)
	}
	if _, _, err := e.Cases.List("!!", 2); errs.Field(err) != "cursor" {
		t.Errorf("cases with a bad cursor: %v", err)
	}
}

func TestCasesPage(t *testing.T) {
	a := fedEnv(t, "500153", model.Link{Peer: "511083", Relation: model.RelPeer})
	var want []string
	for i := 0; i < 7; i++ {
		cs, err := a.Cases.Open(a.ctx, fmt.Sprint("交界纠纷", i), "双方争执", []string{"511083"})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, cs.ID)
	}
	slices.Sort(want)
	got := walk(t, 3, idsOf(a.Cases.List, func(c model.Case) string {
		if c.Entries != nil {
			t.Errorf("case %s listed with its entries", c.ID)
		}
		return c.ID
	}))
	if !slices.Equal(got, want) {
		t.Fatalf("cases: %v, want %v", got, want)
	}
}

func TestVisitsAndCaseEntriesPage(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	since := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var people []string
	for i, visits := range []int{7, 2} {
		p, err := e.People.Add(e.ctx, model.PersonInput{Name: "赵六", IDNumber: idNumber(20 + i), Kind: "registered", Jurisdiction: "511083001001", Grid: "511083001001001"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.People.SetSpecial(e.ctx, p.ID, model.SpecialInput{Category: model.SpecialCorrection, Level: 3, Since: since,
			Details: model.SpecialDetails{CorrectionType: "probation", TermStart: "2026-10-01", TermEnd: "2027-10-01"}, Team: []string{"网格员李"}}); err != nil {
			t.Fatal(err)
		}
		for v := 0; v < visits; v++ {
			if _, err := e.People.RecordVisit(e.ctx, p.ID, model.VisitInput{At: since.AddDate(0, 0, v), Visitor: "网格员李", Method: "home", Found: true}); err != nil {
				t.Fatal(err)
			}
		}
		people = append(people, p.ID)
	}
	visits := func(id string) func(string, int) ([]string, string, error) {
		return idsOf(func(after string, limit int) ([]model.Visit, string, error) { return e.People.Visits(id, after, limit) },
			func(v model.Visit) string { return fmt.Sprint(v.Person, "#", v.Seq) })
	}
	var want []string
	for s := 1; s <= 7; s++ {
		want = append(want, fmt.Sprint(people[0], "#", s))
	}
	for _, limit := range []int{1, 2, 3, 7, 100} {
		if got := walk(t, limit, visits(people[0])); !slices.Equal(got, want) {
			t.Fatalf("visits, pages of %d: %v, want %v", limit, got, want)
		}
	}
	_, other, err := e.People.Visits(people[1], "", 1)
	if err != nil || other == "" {
		t.Fatalf("second person's first page: %q %v", other, err)
	}
	for _, bad := range []string{other, "!!"} {
		if _, _, err := e.People.Visits(people[0], bad, 2); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "cursor" {
			t.Errorf("visits with cursor %q: %v", bad, err)
		}
	}

	a := fedEnv(t, "500153", model.Link{Peer: "511083", Relation: model.RelPeer})
	var cases []string
	for i := 0; i < 2; i++ {
		cs, err := a.Cases.Open(a.ctx, fmt.Sprint("交界纠纷", i), "双方争执", []string{"511083"})
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, cs.ID)
	}
	var texts []string
	for i := 0; i < 6; i++ {
		texts = append(texts, fmt.Sprint("第", i, "次协调"))
		for _, id := range cases {
			if _, err := a.Cases.AddEntry(a.ctx, id, texts[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	entries := idsOf(func(after string, limit int) ([]model.CaseEntry, string, error) {
		return a.Cases.Entries(cases[0], after, limit)
	},
		func(e model.CaseEntry) string { return e.Text })
	for _, limit := range []int{1, 4, 6, 100} {
		if got := walk(t, limit, entries); !slices.Equal(got, texts) {
			t.Fatalf("entries, pages of %d: %v, want %v", limit, got, texts)
		}
	}
	if _, other, err = a.Cases.Entries(cases[1], "", 1); err != nil || other == "" {
		t.Fatalf("second case's first page: %q %v", other, err)
	}
	if _, _, err := a.Cases.Entries(cases[0], other, 2); !errors.Is(err, errs.ErrInvalid) || errs.Field(err) != "cursor" {
		t.Errorf("entries with another case's cursor: %v", err)
	}
	if _, _, err := a.Cases.Entries("nope", "", 2); !errors.Is(err, errs.ErrNotFound) || errs.Field(err) != "id" {
		t.Errorf("entries of no case: %v", err)
	}
}
